import Foundation
import RoadCargo

extension BatchXML {
    /// Writes submissions as a batch file, for clients, demos and tests.
    ///
    /// ``parse(_:)`` reads the result back to the same values, provided each
    /// text is already in `xs:token` form (no leading, trailing or repeated
    /// whitespace) and each number is one the format accepts. The count is not
    /// limited here, so that a test can write the 1000-record file the server
    /// must refuse.
    public static func document(_ consignments: [ConsignmentSubmission], submitter: Submitter? = nil) -> Data
    {
        var w = Writer()
        w.out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        w.out += "<consignmentBatch xmlns=\"\(namespace)\" version=\"\(version)\">\n"
        if let submitter {
            w.open("submitter", 1)
            w.leaf("name", submitter.name, 2)
            w.leaf("batchReference", submitter.batchReference, 2)
            w.close("submitter", 1)
        }
        for c in consignments { w.consignment(c) }
        w.out += "</consignmentBatch>\n"
        return Data(w.out.utf8)
    }

    private struct Writer {
        var out = ""

        mutating func indent(_ level: Int) { out += String(repeating: "  ", count: level) }
        mutating func open(_ name: String, _ level: Int) {
            indent(level)
            out += "<\(name)>\n"
        }
        mutating func close(_ name: String, _ level: Int) {
            indent(level)
            out += "</\(name)>\n"
        }
        mutating func leaf(_ name: String, _ value: String?, _ level: Int) {
            guard let value else { return }
            indent(level)
            out += "<\(name)>\(BatchXML.escaped(value))</\(name)>\n"
        }
        mutating func measure(_ name: String, _ m: Measure?, _ level: Int) {
            guard let m else { return }
            indent(level)
            out +=
                "<\(name) unit=\"\(BatchXML.escaped(m.unit))\">\(BatchXML.decimalString(m.value))</\(name)>\n"
        }

        mutating func consignment(_ c: ConsignmentSubmission) {
            open("consignment", 1)
            leaf("direction", c.direction.rawValue, 2)
            leaf("expectedDate", c.expectedDate.description, 2)
            party("consignor", c.consignor)
            party("consignee", c.consignee)
            for g in c.goodsItems {
                open("goodsItem", 2)
                leaf("description", g.description, 3)
                if let p = g.packaging {
                    open("packaging", 3)
                    leaf("count", String(p.count), 4)
                    leaf("kind", p.kind, 4)
                    close("packaging", 3)
                } else {
                    indent(3)
                    out += "<bulk/>\n"
                }
                measure("grossWeight", g.grossWeight, 3)
                measure("grossVolume", g.grossVolume, 3)
                measure("netQuantity", g.netQuantity, 3)
                for p in g.permits {
                    open("permit", 3)
                    leaf("number", p.number, 4)
                    leaf("issuingAuthority", p.issuingAuthority, 4)
                    leaf("type", p.type, 4)
                    close("permit", 3)
                }
                close("goodsItem", 2)
            }
            if let t = c.transhipment {
                open("transhipment", 2)
                leaf("portOfLoading", t.portOfLoading, 3)
                leaf("portOfDischarge", t.portOfDischarge, 3)
                leaf("conveyanceReference", t.conveyanceReference, 3)
                close("transhipment", 2)
            }
            leaf("expectedControlPoint", c.expectedControlPoint?.rawValue, 2)
            leaf("sealNumber", c.sealNumber, 2)
            leaf("containerNumber", c.containerNumber, 2)
            leaf("ucr", c.ucr, 2)
            leaf("equipmentSizeAndType", c.equipmentSizeAndType, 2)
            leaf("senderReference", c.senderReference, 2)
            if let a = c.actingOnBehalf {
                open("actingOnBehalf", 2)
                leaf("agentRole", a.agentRole.rawValue, 3)
                leaf("shipperType", a.shipperType.rawValue, 3)
                leaf("shipperName", a.shipperName, 3)
                leaf("hkid", a.hkid, 3)
                leaf("businessRegistration", a.businessRegistration, 3)
                close("actingOnBehalf", 2)
            }
            close("consignment", 1)
        }

        mutating func party(_ name: String, _ p: Party) {
            open(name, 2)
            leaf("name", p.name, 3)
            leaf("countryCode", p.countryCode, 3)
            for line in p.addressLines { leaf("addressLine", line, 3) }
            leaf("subEntityName", p.subEntityName, 3)
            leaf("subEntityCode", p.subEntityCode, 3)
            leaf("postcode", p.postcode, 3)
            close(name, 2)
        }
    }

    /// Text or attribute content with XML's special characters escaped, and
    /// characters XML 1.0 cannot carry at all replaced by U+FFFD.
    static func escaped(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for scalar in s.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "\t", "\n", "\r": out.unicodeScalars.append(scalar)
            case _ where scalar.value < 0x20 || scalar.value == 0xFFFE || scalar.value == 0xFFFF:
                out.unicodeScalars.append("\u{FFFD}")
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// A Double as an `xs:decimal` literal: Swift's shortest round-tripping
    /// digits, with any exponent written out, since the format has none.
    static func decimalString(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        let text = "\(value)"
        guard let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) else { return text }
        let exponent = Int(text[text.index(after: e)...]) ?? 0
        var mantissa = String(text[..<e])
        let negative = mantissa.hasPrefix("-")
        if negative { mantissa.removeFirst() }
        let parts = mantissa.split(separator: ".", omittingEmptySubsequences: false)
        let whole = String(parts[0])
        let fraction = parts.count > 1 ? String(parts[1]) : ""
        let digits = whole + fraction
        let point = whole.count + exponent  // position of the decimal point in `digits`
        var result: String
        if point <= 0 {
            result = "0." + String(repeating: "0", count: -point) + digits
        } else if point >= digits.count {
            result = digits + String(repeating: "0", count: point - digits.count)
        } else {
            result = String(digits.prefix(point)) + "." + String(digits.dropFirst(point))
        }
        while result.contains("."), result.hasSuffix("0") { result.removeLast() }
        if result.hasSuffix(".") { result.removeLast() }
        return (negative ? "-" : "") + result
    }
}
