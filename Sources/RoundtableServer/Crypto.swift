import CLibWebSockets
import RoundtableCore

/// SHA-256 through OpenSSL: secrets are stored only as their digests.
public struct SHA256Hasher: SecretHasher {
    public init() {}

    public func digest(_ secret: String) -> String {
        var out = [UInt8](repeating: 0, count: Int(SHA256_DIGEST_LENGTH))
        var input = Array(secret.utf8)
        input.withUnsafeMutableBufferPointer { inp in
            _ = SHA256(inp.baseAddress, inp.count, &out)
        }
        return hexString(out)
    }
}

/// Cryptographic randomness from OpenSSL's CSPRNG for codes, keys and tokens.
public struct SystemEntropy: EntropySource {
    public init() {}

    public mutating func bytes(_ count: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        let ok = out.withUnsafeMutableBufferPointer { RAND_bytes($0.baseAddress, Int32(count)) }
        // Without a working CSPRNG every secret would be guessable: refusing to continue is the only safe answer.
        precondition(ok == 1, "OpenSSL RAND_bytes failed")
        return out
    }
}

/// TURN REST API passwords as coturn verifies them (`use-auth-secret`): base64(HMAC-SHA1(secret, username)),
/// through OpenSSL. The secret lives only here; it is never sent, stored or logged.
public struct HMACSHA1TurnMinter: TurnCredentialMinter {
    private let secret: [UInt8]

    public init(secret: String) { self.secret = Array(secret.utf8) }

    public func password(for username: String) -> String {
        var mac = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let data = Array(username.utf8)
        _ = secret.withUnsafeBufferPointer { key in
            data.withUnsafeBufferPointer { d in
                HMAC(EVP_sha1(), key.baseAddress, Int32(key.count), d.baseAddress, d.count, &mac, &length)
            }
        }
        // EVP_EncodeBlock writes 4 characters per 3 bytes plus a NUL.
        var out = [UInt8](repeating: 0, count: (Int(length) + 2) / 3 * 4 + 1)
        let n = mac.withUnsafeBufferPointer { m in EVP_EncodeBlock(&out, m.baseAddress, Int32(length)) }
        return String(decoding: out[0..<Int(n)], as: UTF8.self)
    }
}
