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
        let digits = Array("0123456789abcdef".utf8)
        var hex: [UInt8] = []
        hex.reserveCapacity(64)
        for b in out {
            hex.append(digits[Int(b >> 4)])
            hex.append(digits[Int(b & 15)])
        }
        return String(decoding: hex, as: UTF8.self)
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
