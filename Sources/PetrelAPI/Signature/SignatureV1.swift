import Crypto
import Foundation

/// The RPC v1 signature (HMAC-SHA1, `Signature` parameter) of the legacy SDK and of `signature_algorithm='v2'`.
public enum SignatureV1 {
    /// `METHOD&%2F&` + the percent-encoded canonical query of every parameter but `Signature`.
    public static func stringToSign(method: String, parameters: [(String, String)]) -> String {
        let canonical = FormEncoding.canonicalQuery(parameters.filter { $0.0 != "Signature" })
        return method.uppercased() + "&" + FormEncoding.percentEncode("/") + "&" + FormEncoding.percentEncode(canonical)
    }

    /// Base64 of HMAC-SHA1 keyed with `secret + "&"`.
    public static func signature(stringToSign: String, secret: String) -> String {
        let key = SymmetricKey(data: Array((secret + "&").utf8))
        let mac = HMAC<Insecure.SHA1>.authenticationCode(for: Array(stringToSign.utf8), using: key)
        return Data(mac).base64EncodedString()
    }
}
