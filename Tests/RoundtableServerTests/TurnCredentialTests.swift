import RoundtableCore
import RoundtableServer
import Testing

// TURN REST API credentials as coturn checks them. The expected password was computed independently:
//   printf '%s' "1800003600:00112233aabbccdd" | openssl dgst -sha1 -hmac "s3cret-for-tests" -binary | base64
//   python3 -c "import hmac,hashlib,base64; print(base64.b64encode(hmac.new(b's3cret-for-tests',
//     b'1800003600:00112233aabbccdd', hashlib.sha1).digest()).decode())"
// both print w2FG0nvjmZrirqH2DlNfWU7WWn0=

@Suite struct TurnCredentialTests {
    @Test func hmacSha1MatchesAnIndependentlyComputedVector() {
        let minter = HMACSHA1TurnMinter(secret: "s3cret-for-tests")
        #expect(minter.password(for: "1800003600:00112233aabbccdd") == "w2FG0nvjmZrirqH2DlNfWU7WWn0=")
    }

    @Test func rfc2202Vector() {
        // RFC 2202 test case 2: key "Jefe", data "what do ya want for nothing?" → effcdf6ae5eb2fa2d27416d5f184df9c259a7c79.
        let minter = HMACSHA1TurnMinter(secret: "Jefe")
        #expect(minter.password(for: "what do ya want for nothing?") == "7/zfauXrL6LSdBbV8YTfnCWafHk=")
    }

    @Test func aDifferentSecretGivesADifferentPassword() {
        #expect(HMACSHA1TurnMinter(secret: "other").password(for: "1800003600:00112233aabbccdd") != "w2FG0nvjmZrirqH2DlNfWU7WWn0=")
    }

    @Test func callsSettingsAreCheckedAtStart() throws {
        var c = Configuration()
        try c.applyEnvironment([
            "ROUNDTABLE_CALLS_STUNURLS": #"["stun:127.0.0.1:3478"]"#, "ROUNDTABLE_CALLS_TURNURLS": #"["turn:127.0.0.1:3478"]"#,
            "ROUNDTABLE_CALLS_TURNSECRET": "abc", "ROUNDTABLE_CALLS_MAXSIGNALBYTES": "8192",
        ])
        #expect(c.calls.turnUrls == ["turn:127.0.0.1:3478"] && c.turnSecret == "abc" && c.calls.maxSignalBytes == 8192)
        #expect(c.turnMinter != nil)
        #expect(throws: Configuration.Invalid.self) { try Configuration.parse(#"{"calls": {"turnUrls": ["turn:x:3478"]}}"#) }
        #expect(throws: Configuration.Invalid.self) { try Configuration.parse(#"{"calls": {"stunUrls": ["http://x"]}}"#) }
        #expect(throws: Configuration.Invalid.self) { try Configuration.parse(#"{"calls": {"maxSignalBytes": 100}}"#) }
        #expect(throws: Configuration.Invalid.self) { try Configuration.parse(#"{"calls": {"credentialTtlSeconds": 5}}"#) }
        #expect(Configuration().turnMinter == nil)
    }
}
