import RoundtableServer
print("roundtable \(RoundtableVersion.string)")
