import Grid
import XCTest

/// The long FIPS 180-2 vector, as an XCTest case: one million repetitions of "a" (many blocks,
/// and a length that needs the full 64-bit length field).
final class SHA256LongMessageTests: XCTestCase {
    func testMillionAs() {
        let digest = SHA256.digest([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000))
        let hex = digest.map { String(format: "%02x", $0) }.joined()
        XCTAssertEqual(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }
}
