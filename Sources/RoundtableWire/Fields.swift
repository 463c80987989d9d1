import RoundtableCore

/// Typed access to a request's fields; each mistake names the field and what was expected.
struct Fields {
    let object: Value.Object

    func string(_ key: String) throws(DomainError) -> String {
        guard let v = object[key], !v.isNull else { throw .invalidField(key, "is required") }
        guard let s = v.stringValue else { throw .invalidField(key, "must be a string") }
        return s
    }

    func optionalString(_ key: String) throws(DomainError) -> String? {
        guard let v = object[key], !v.isNull else { return nil }
        guard let s = v.stringValue else { throw .invalidField(key, "must be a string") }
        return s
    }

    func int(_ key: String) throws(DomainError) -> Int64 {
        guard let v = object[key], !v.isNull else { throw .invalidField(key, "is required") }
        guard let i = v.intValue else { throw .invalidField(key, "must be an integer") }
        return i
    }

    func optionalInt(_ key: String) throws(DomainError) -> Int64? {
        guard let v = object[key], !v.isNull else { return nil }
        guard let i = v.intValue else { throw .invalidField(key, "must be an integer") }
        return i
    }

    func optionalDouble(_ key: String) throws(DomainError) -> Double? {
        guard let v = object[key], !v.isNull else { return nil }
        guard let d = v.doubleValue else { throw .invalidField(key, "must be a number") }
        return d
    }

    func optionalBool(_ key: String) throws(DomainError) -> Bool? {
        guard let v = object[key], !v.isNull else { return nil }
        guard let b = v.boolValue else { throw .invalidField(key, "must be true or false") }
        return b
    }

    func optionalStrings(_ key: String, maxCount: Int) throws(DomainError) -> [String]? {
        guard let v = object[key], !v.isNull else { return nil }
        guard let a = v.arrayValue else { throw .invalidField(key, "must be an array of strings") }
        if a.count > maxCount { throw .tooLarge(key, limit: maxCount) }
        var out: [String] = []
        out.reserveCapacity(a.count)
        for e in a {
            guard let s = e.stringValue else { throw .invalidField(key, "must be an array of strings") }
            out.append(s)
        }
        return out
    }

    func optionalArray(_ key: String, maxCount: Int) throws(DomainError) -> [Value]? {
        guard let v = object[key], !v.isNull else { return nil }
        guard let a = v.arrayValue else { throw .invalidField(key, "must be an array") }
        if a.count > maxCount { throw .tooLarge(key, limit: maxCount) }
        return a
    }

    func optionalObject(_ key: String) throws(DomainError) -> Value.Object? {
        guard let v = object[key], !v.isNull else { return nil }
        guard let o = v.objectValue else { throw .invalidField(key, "must be an object") }
        return o
    }

    /// A positive id (need, poll).
    func id(_ key: String) throws(DomainError) -> Int {
        let i = try int(key)
        guard i > 0 && i < Int64(Int32.max) else { throw .invalidField(key, "is not a valid id") }
        return Int(i)
    }

    func memberID(_ key: String) throws(DomainError) -> MemberID {
        let i = try int(key)
        guard i > 0 && i < Int64(Int32.max) else { throw .invalidField(key, "is not a member id") }
        return Int(i)
    }
}
