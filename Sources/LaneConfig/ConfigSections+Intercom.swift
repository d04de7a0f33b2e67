import Foundation
import Yams

// The intercom section: the help call's voice path (docs/intercom.md).
extension ConfigReader {
    mutating func readIntercom(_ top: inout Table) -> LaneConfiguration.IntercomSection? {
        guard top.has("intercom") else { return nil }
        guard var t = section(&top, "intercom") else { return nil }
        let hasCommand = t.has("command")
        let command = commandLine(&t, K.intercomCommand)
        let hasURI = t.has("sip_uri")
        let uri = optional(&t, K.sipURI)
        let hasClient = t.has("sip_client")
        let client = commandLine(&t, K.sipClient)
        let timeout = value(&t, K.intercomTimeout)
        finish(t)
        switch (hasCommand, hasURI) {
        case (true, true):
            problem(
                "intercom", at: t.node,
                "both intercom.command and intercom.sip_uri are given; expected exactly one")
            return nil
        case (false, false):
            problem(
                "intercom", at: t.node,
                "no voice path; expected intercom.command (a program and its arguments) or intercom.sip_uri "
                    + "(sip:user@host); leave intercom out for a lane without one")
            return nil
        case (true, false):
            if hasClient {
                problem(
                    "intercom.sip_client", at: node(t, "sip_client"),
                    "given with intercom.command; expected it only with intercom.sip_uri (the program that "
                        + "dials it)")
                return nil
            }
            guard let command, let timeout else { return nil }
            return .init(voice: .command(command), timeout: timeout)
        case (false, true):
            guard let uri, !hasClient || client != nil, let timeout else { return nil }
            return .init(
                voice: .sip(uri: uri, client: client ?? LaneConfiguration.IntercomSection.defaultSIPClient),
                timeout: timeout)
        }
    }

    /// A program and its arguments as a list, `[program, argument, ...]`:
    /// run directly, not through a shell, so an argument needs no quoting.
    /// A relative program path is taken from the config file's directory.
    /// Nil when absent (no problem) or wrong (a problem).
    mutating func commandLine(_ t: inout Table, _ descriptor: ConfigKeyDescriptor) -> [String]? {
        let key = String(descriptor.name.split(separator: ".").last ?? "")
        assert(t.path(key) == descriptor.name, "\(descriptor.name) read at \(t.path(key))")
        guard let node = t.take(key) else { return nil }
        let expected =
            "a list of a program's path and its arguments, such as [/usr/local/lib/lanekiosk/intercom, --device, "
            + "hw:1]"
        let items: [Node]
        var isList = true
        switch node {
        case .sequence(let list) where !list.isEmpty:
            items = Array(list)
        case .sequence:
            problem(t.path(key), at: node, "expected \(expected); got an empty list")
            return nil
        case .scalar(let s) where !Self.isNull(s) && !s.string.contains(where: \.isWhitespace):
            // A lone program needs no brackets.
            items = [node]
            isList = false
        case .scalar(let s) where !Self.isNull(s):
            problem(
                t.path(key), at: node,
                "expected \(expected); got \(Self.describe(node)) (it is not run through a shell: give the "
                    + "program and each argument as an item of the list)")
            return nil
        default:
            problem(t.path(key), at: node, "expected \(expected); got \(Self.describe(node))")
            return nil
        }
        var line: [String] = []
        for (index, item) in items.enumerated() {
            let at = isList ? "\(t.path(key))[\(index)]" : t.path(key)
            if index == 0 {
                guard let program = read(item, at: at, Kind<String>.path) else { return nil }
                line.append(program)
            } else {
                let argument = Kind<String>(expected: "an argument (a text value)", type: "text") {
                    $0.string
                }
                guard let value = read(item, at: at, argument) else { return nil }
                line.append(value)
            }
        }
        return line
    }
}

extension ConfigReader.Kind where T == String {
    /// `sip:user@host` or `sips:user@host`, with an optional port and
    /// parameters (`sip:officers@pbx.example:5061;transport=tls`).
    static var sipURI: Self {
        .init(
            expected: "a SIP URI such as sip:officers@pbx.example (sip: or sips:, a user, @ and a host)",
            type: "SIP URI"
        ) { s in
            SIPURI.isValid(s.string) ? s.string : nil
        }
    }
}

/// The checks a lane can make of a SIP URI before anything dials it
/// (RFC 3261 section 19.1, without the rarer forms: a user is required).
enum SIPURI {
    static func isValid(_ text: String) -> Bool {
        guard text.allSatisfy({ $0.isASCII && !$0.isWhitespace && !$0.isNewline }) else { return false }
        let lower = text.lowercased()
        guard let scheme = ["sips:", "sip:"].first(where: { lower.hasPrefix($0) }) else { return false }
        // Parameters (;transport=tcp) and headers (?subject=x) follow the host.
        let rest = text.dropFirst(scheme.count).prefix { $0 != ";" && $0 != "?" }
        let parts = rest.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2 else { return false }
        let user = parts[0].split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)[0]
        let unreserved = Set("-_.!~*'()&=+$,;?/%")
        guard !user.isEmpty, user.allSatisfy({ $0.isLetter || $0.isNumber || unreserved.contains($0) }) else {
            return false
        }
        return isHostPort(parts[1])
    }

    private static func isHostPort(_ text: Substring) -> Bool {
        var host = text
        var port: Substring?
        if text.hasPrefix("[") {
            // An IPv6 reference: [2001:db8::1] or [2001:db8::1]:5060.
            guard let close = text.firstIndex(of: "]") else { return false }
            let address = text[text.index(after: text.startIndex)..<close]
            guard !address.isEmpty, address.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else {
                return false
            }
            let after = text[text.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { return false }
                port = after.dropFirst()
            }
            host = ""
        } else if let colon = text.firstIndex(of: ":") {
            host = text[..<colon]
            port = text[text.index(after: colon)...]
        }
        if let port {
            guard let number = Int(port), (1...65_535).contains(number), port.allSatisfy(\.isNumber) else {
                return false
            }
        }
        if text.hasPrefix("[") { return true }
        let labels = host.split(separator: ".", omittingEmptySubsequences: false)
        return !host.isEmpty && host.count <= 253
            && labels.allSatisfy { label in
                !label.isEmpty && label.count <= 63 && label.first != "-" && label.last != "-"
                    && label.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" }
            }
    }
}
