import Foundation
import RoadCargo
import Testing

@testable import LinkCore

@Suite("Link keys")
struct LinkKeyTests {
    @Test(
        "malformed key files are refused with a reason",
        arguments: [
            "", "lanekiosk-link-key v1 LMC-IN-03\n", "lanekiosk-link-key v2 LMC-IN-03 AAAA\n",
            "other-key v1 LMC-IN-03 AAAA\n", "lanekiosk-link-key v1 LMC IN 03 AAAA\n",
            "lanekiosk-link-key v1 LMC-IN-03 !!!!\n", "lanekiosk-link-key v1 LMC-IN-03 AAAA\n",
            "lanekiosk-link-key  v1 LMC-IN-03 AAAA\n",
        ])
    func malformed(contents: String) {
        #expect(throws: LinkKeyError.self) { try LinkKey(fileContents: contents, source: "test") }
    }

    @Test("file contents round trip, with or without CRLF")
    func contentsRoundTrip() throws {
        let text = Fixture.keyA.fileContents
        #expect(try LinkKey(fileContents: text, source: "t").sameKey(as: Fixture.keyA))
        #expect(
            try LinkKey(fileContents: text.replacingOccurrences(of: "\n", with: "\r\n"), source: "t").sameKey(
                as: Fixture.keyA))
    }

    @Test("printing a key shows its fingerprint, never the key")
    func redacted() {
        let printed = "\(Fixture.keyA)"
        #expect(printed.hasPrefix("LinkKey(LMC-IN-03, fingerprint "))
        #expect(!printed.contains(Data(Fixture.keyA.secret).base64EncodedString()))
        #expect(Fixture.keyA.fingerprint.count == 16)
    }
}
