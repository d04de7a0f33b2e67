import ClearanceCore
import Foundation
import RoadCargo

extension BatchXML {
    /// Where a child element may stand in its parent: the XSD's sequence,
    /// written out once more for the parser. `order` is the position in the
    /// sequence; the two members of a choice share one.
    struct Slot {
        var xml: String
        /// The JSON API's name for it, used in issue paths.
        var field: String
        var order: Int
        var min = 0
        var max: Int? = 1
    }

    /// The children of one element, grouped by name, as `RecordMapper.children`
    /// accepted them.
    struct Children {
        var byName: [String: [Element]] = [:]
        func first(_ name: String) -> Element? { byName[name]?.first }
        func all(_ name: String) -> [Element] { byName[name] ?? [] }
        func has(_ name: String) -> Bool { byName[name] != nil }
    }

    // The format's sequences, in the XSD's order.
    static let batchSubmitterSlots = [
        Slot(xml: "name", field: "name", order: 0, min: 1),
        Slot(xml: "batchReference", field: "batchReference", order: 1),
    ]
    static let consignmentSlots = [
        Slot(xml: "direction", field: "direction", order: 0, min: 1),
        Slot(xml: "expectedDate", field: "expectedDate", order: 1, min: 1),
        Slot(xml: "consignor", field: "consignor", order: 2, min: 1),
        Slot(xml: "consignee", field: "consignee", order: 3, min: 1),
        Slot(xml: "goodsItem", field: "goodsItems", order: 4, min: 1, max: nil),
        Slot(xml: "transhipment", field: "transhipment", order: 5),
        Slot(xml: "expectedControlPoint", field: "expectedControlPoint", order: 6),
        Slot(xml: "sealNumber", field: "sealNumber", order: 7),
        Slot(xml: "containerNumber", field: "containerNumber", order: 8),
        Slot(xml: "ucr", field: "ucr", order: 9),
        Slot(xml: "equipmentSizeAndType", field: "equipmentSizeAndType", order: 10),
        Slot(xml: "senderReference", field: "senderReference", order: 11),
        Slot(xml: "actingOnBehalf", field: "actingOnBehalf", order: 12),
    ]
    /// Parties have one to five address lines (the briefing's form).
    static let maximumAddressLines = ConsignmentValidation.maximumAddressLines
    static let partySlots = [
        Slot(xml: "name", field: "name", order: 0, min: 1),
        Slot(xml: "countryCode", field: "countryCode", order: 1, min: 1),
        Slot(xml: "addressLine", field: "addressLines", order: 2, min: 1, max: maximumAddressLines),
        Slot(xml: "subEntityName", field: "subEntityName", order: 3),
        Slot(xml: "subEntityCode", field: "subEntityCode", order: 4),
        Slot(xml: "postcode", field: "postcode", order: 5),
    ]
    static let goodsItemSlots = [
        Slot(xml: "description", field: "description", order: 0, min: 1),
        // Choice: in packages or in bulk.
        Slot(xml: "packaging", field: "packaging", order: 1),
        Slot(xml: "bulk", field: "packaging", order: 1),
        // Choice: gross weight or gross volume.
        Slot(xml: "grossWeight", field: "grossWeight", order: 2),
        Slot(xml: "grossVolume", field: "grossVolume", order: 2),
        Slot(xml: "netQuantity", field: "netQuantity", order: 3),
        Slot(xml: "permit", field: "permits", order: 4, max: nil),
    ]
    static let packagingSlots = [
        Slot(xml: "count", field: "count", order: 0, min: 1),
        Slot(xml: "kind", field: "kind", order: 1, min: 1),
    ]
    static let permitSlots = [
        Slot(xml: "number", field: "number", order: 0, min: 1),
        Slot(xml: "issuingAuthority", field: "issuingAuthority", order: 1, min: 1),
        Slot(xml: "type", field: "type", order: 2, min: 1),
    ]
    static let transhipmentSlots = [
        Slot(xml: "portOfLoading", field: "portOfLoading", order: 0, min: 1),
        Slot(xml: "portOfDischarge", field: "portOfDischarge", order: 1, min: 1),
        Slot(xml: "conveyanceReference", field: "conveyanceReference", order: 2),
    ]
    static let actingOnBehalfSlots = [
        Slot(xml: "agentRole", field: "agentRole", order: 0, min: 1),
        Slot(xml: "shipperType", field: "shipperType", order: 1, min: 1),
        Slot(xml: "shipperName", field: "shipperName", order: 2, min: 1),
        Slot(xml: "hkid", field: "hkid", order: 3),
        Slot(xml: "businessRegistration", field: "businessRegistration", order: 4),
    ]

    /// Largest package count and measure the XSD accepts: beyond them a value
    /// is a typing slip, and it keeps numbers inside Int and exact in Double.
    static let maximumCount = 999_999_999
    static let maximumMeasure: Double = 999_999_999_999

    static func join(_ path: String, _ field: String) -> String {
        path.isEmpty ? field : "\(path).\(field)"
    }

    /// Maps kept elements to values, collecting every structural issue with
    /// its JSON-style field path; it never stops at the first.
    struct RecordMapper {
        private(set) var issues: [ValidationIssue] = []

        mutating func add(_ field: String, _ rule: String, _ detail: String) {
            if issues.count < BatchXML.maximumIssuesPerRecord {
                issues.append(ValidationIssue(field: field, rule: rule, detail: detail))
            } else if issues.count == BatchXML.maximumIssuesPerRecord {
                issues.append(
                    ValidationIssue(
                        field: "", rule: "xml.too-many-issues",
                        detail:
                            "more than \(BatchXML.maximumIssuesPerRecord) problems; fix these and upload again"
                    ))
            }
        }

        // MARK: Generic structure

        /// Checks a container's children against its sequence: unknown,
        /// misplaced, missing and repeated elements, stray text, attributes.
        mutating func children(of e: Element, at path: String, slots: [Slot]) -> Children {
            noAttributes(e, at: path)
            let stray = BatchXML.normalized(e.text)
            if !stray.isEmpty {
                add(
                    path, "xml.text",
                    "<\(e.name)> at line \(e.line) holds elements only, not text (\"\(stray.prefix(40))\")")
            }
            var found = Children()
            var last: Slot?
            for child in e.children {
                guard child.namespace == BatchXML.namespace,
                    let slot = slots.first(where: { $0.xml == child.name })
                else {
                    let foreign =
                        child.namespace == BatchXML.namespace ? "" : " (namespace \"\(child.namespace)\")"
                    add(
                        BatchXML.join(path, child.name), "xml.unknown-element",
                        "unknown element <\(child.name)>\(foreign) at line \(child.line) in <\(e.name)>; it may hold "
                            + slots.map { "<\($0.xml)>" }.joined(separator: ", "))
                    continue
                }
                if let before = last, slot.order < before.order {
                    add(
                        BatchXML.join(path, slot.field), "xml.order",
                        "<\(child.name)> at line \(child.line) must come before <\(before.xml)>; in <\(e.name)> the order is "
                            + orderText(slots))
                } else {
                    last = slot
                }
                found.byName[child.name, default: []].append(child)
            }
            for slot in slots {
                let count = found.all(slot.xml).count
                let sharesOrder = slots.contains { $0.order == slot.order && $0.xml != slot.xml }
                if count < slot.min, !sharesOrder {
                    add(
                        BatchXML.join(path, slot.field), "xml.missing",
                        "<\(e.name)> at line \(e.line) lacks the required element <\(slot.xml)>")
                }
                if let max = slot.max, count > max {
                    let extra = found.all(slot.xml)[max]
                    let field = max == 1 ? slot.field : "\(slot.field)[\(max)]"
                    add(
                        BatchXML.join(path, field), "xml.repeated",
                        "<\(e.name)> may hold at most \(max) <\(slot.xml)>; another one is at line \(extra.line)"
                    )
                }
            }
            return found
        }

        private func orderText(_ slots: [Slot]) -> String {
            var groups: [[String]] = []
            var lastOrder = -1
            for slot in slots {
                if slot.order == lastOrder {
                    groups[groups.count - 1].append(slot.xml)
                } else {
                    groups.append([slot.xml])
                }
                lastOrder = slot.order
            }
            return groups.map { $0.map { "<\($0)>" }.joined(separator: " or ") }.joined(separator: ", ")
        }

        /// Every attribute of an element the format gives none (prefixed,
        /// foreign ones included: the XSD allows those on the root only).
        mutating func noAttributes(_ e: Element, at path: String, except allowed: Set<String> = []) {
            for name in e.attributes.keys.sorted() where !allowed.contains(name) {
                add(
                    BatchXML.join(path, name), "xml.attribute",
                    "<\(e.name)> at line \(e.line) takes no attribute \"\(name)\"")
            }
        }

        /// The normalised text of an element that holds text only.
        mutating func leaf(_ e: Element, at path: String) -> String {
            noAttributes(e, at: path)
            for child in e.children {
                add(
                    BatchXML.join(path, child.name), "xml.unknown-element",
                    "<\(e.name)> holds text only; unexpected <\(child.name)> at line \(child.line)")
            }
            return BatchXML.normalized(e.text)
        }

        /// A required text element; nil (issue recorded) when missing or empty.
        mutating func required(_ kids: Children, _ xml: String, field: String? = nil, at path: String)
            -> String?
        {
            guard let e = kids.first(xml) else { return nil }  // reported by children(of:)
            let fieldPath = BatchXML.join(path, field ?? xml)
            let text = leaf(e, at: fieldPath)
            if text.isEmpty {
                add(fieldPath, "xml.empty", "<\(xml)> at line \(e.line) is empty; it is required")
                return nil
            }
            return text
        }

        /// An optional text element; an empty one counts as absent, as a
        /// blank spreadsheet cell exported to XML would be.
        mutating func optional(_ kids: Children, _ xml: String, at path: String) -> String? {
            guard let e = kids.first(xml) else { return nil }
            let text = leaf(e, at: BatchXML.join(path, xml))
            return text.isEmpty ? nil : text
        }

        /// A required element whose normalised text is one of a fixed set.
        mutating func enumeration<T>(
            _ kids: Children, _ xml: String, at path: String, _ cases: [(String, T)]
        ) -> T? {
            guard let text = required(kids, xml, at: path) else { return nil }
            if let match = cases.first(where: { $0.0 == text }) { return match.1 }
            let e = kids.first(xml)!
            add(
                BatchXML.join(path, xml), "xml.enum",
                "<\(xml)> at line \(e.line) is \"\(text)\"; it must be one of "
                    + cases.map { "\"\($0.0)\"" }.joined(separator: ", "))
            return nil
        }

        // MARK: The format

        /// The header; issue paths start with `submitter`.
        mutating func submitter(_ e: Element) -> Submitter? {
            let kids = children(of: e, at: "submitter", slots: BatchXML.batchSubmitterSlots)
            let name = required(kids, "name", at: "submitter")
            let reference = optional(kids, "batchReference", at: "submitter")
            return name.map { Submitter(name: $0, batchReference: reference) }
        }

        /// The `<senderReference>` alone, read leniently before the record is
        /// checked, so that even a refused record can be matched.
        func senderReference(of e: Element) -> String? {
            guard
                let ref = e.children.first(where: {
                    $0.name == "senderReference" && $0.namespace == BatchXML.namespace
                })
            else { return nil }
            let text = BatchXML.normalized(ref.text)
            return text.isEmpty ? nil : text
        }

        mutating func consignment(_ e: Element) -> ConsignmentSubmission? {
            let kids = children(of: e, at: "", slots: BatchXML.consignmentSlots)
            let direction = enumeration(
                kids, "direction", at: "", Direction.allCases.map { ($0.rawValue, $0) })
            let expectedDate = date(kids, "expectedDate", at: "")
            let consignor = kids.first("consignor").flatMap { party($0, at: "consignor") }
            let consignee = kids.first("consignee").flatMap { party($0, at: "consignee") }
            var goodsItems: [GoodsItem] = []
            var goodsComplete = true
            for (i, item) in kids.all("goodsItem").enumerated() {
                if let g = goodsItem(item, at: "goodsItems[\(i)]") {
                    goodsItems.append(g)
                } else {
                    goodsComplete = false
                }
            }
            let transhipment = kids.first("transhipment").flatMap {
                self.transhipment($0, at: "transhipment")
            }
            let controlPoint: ControlPoint? =
                kids.has("expectedControlPoint")
                ? enumeration(
                    kids, "expectedControlPoint", at: "", ControlPoint.allCases.map { ($0.rawValue, $0) })
                : nil
            let seal = optional(kids, "sealNumber", at: "")
            let container = optional(kids, "containerNumber", at: "")
            let ucr = optional(kids, "ucr", at: "")
            let equipment = optional(kids, "equipmentSizeAndType", at: "")
            let reference = optional(kids, "senderReference", at: "")
            let onBehalf = kids.first("actingOnBehalf").flatMap { actingOnBehalf($0, at: "actingOnBehalf") }

            guard issues.isEmpty, goodsComplete, let direction, let expectedDate, let consignor, let consignee
            else { return nil }
            return ConsignmentSubmission(
                direction: direction, expectedDate: expectedDate, consignor: consignor, consignee: consignee,
                goodsItems: goodsItems, transhipment: transhipment, expectedControlPoint: controlPoint,
                sealNumber: seal, containerNumber: container, ucr: ucr, equipmentSizeAndType: equipment,
                senderReference: reference, actingOnBehalf: onBehalf)
        }

        mutating func party(_ e: Element, at path: String) -> Party? {
            let kids = children(of: e, at: path, slots: BatchXML.partySlots)
            let name = required(kids, "name", at: path)
            let country = required(kids, "countryCode", at: path)
            if let country, !BatchXML.isCountryCode(country) {
                add(
                    BatchXML.join(path, "countryCode"), "xml.format",
                    "<countryCode> at line \(kids.first("countryCode")!.line) is \"\(country)\"; it is an ISO 3166-1 alpha-2 code in capitals, e.g. HK or CN"
                )
            }
            var lines: [String] = []
            for (i, line) in kids.all("addressLine").prefix(BatchXML.maximumAddressLines).enumerated() {
                let text = leaf(line, at: BatchXML.join(path, "addressLines[\(i)]"))
                if text.isEmpty {
                    add(
                        BatchXML.join(path, "addressLines[\(i)]"), "xml.empty",
                        "<addressLine> at line \(line.line) is empty; leave out unused lines")
                }
                lines.append(text)
            }
            let subEntityName = optional(kids, "subEntityName", at: path)
            let subEntityCode = optional(kids, "subEntityCode", at: path)
            let postcode = optional(kids, "postcode", at: path)
            guard let name, let country else { return nil }
            return Party(
                name: name, countryCode: country, addressLines: lines, subEntityName: subEntityName,
                subEntityCode: subEntityCode, postcode: postcode)
        }

        mutating func goodsItem(_ e: Element, at path: String) -> GoodsItem? {
            let before = issues.count
            let kids = children(of: e, at: path, slots: BatchXML.goodsItemSlots)
            let description = required(kids, "description", at: path)

            var packaging: Packaging?
            switch (kids.first("packaging"), kids.first("bulk")) {
            case (let p?, nil):
                let pPath = BatchXML.join(path, "packaging")
                let pKids = children(of: p, at: pPath, slots: BatchXML.packagingSlots)
                let count = pKids.first("count").flatMap { c -> Int? in
                    let text = leaf(c, at: BatchXML.join(pPath, "count"))
                    guard let n = BatchXML.count(text) else {
                        add(
                            BatchXML.join(pPath, "count"), "xml.number",
                            "<count> at line \(c.line) is \"\(text)\"; it is a whole number from 1 to \(BatchXML.maximumCount)"
                        )
                        return nil
                    }
                    return n
                }
                let kind = required(pKids, "kind", at: pPath)
                if let count, let kind { packaging = Packaging(count: count, kind: kind) }
            case (nil, let b?):
                _ = leaf(b, at: BatchXML.join(path, "packaging"))
                // Raw text, not normalised: the XSD's empty content type
                // admits not even whitespace.
                if !b.text.isEmpty {
                    add(
                        BatchXML.join(path, "packaging"), "xml.text",
                        "<bulk/> at line \(b.line) is an empty marker element; it holds nothing, not even spaces"
                    )
                }
            case (nil, nil):
                add(
                    BatchXML.join(path, "packaging"), "xml.missing",
                    "<goodsItem> at line \(e.line) needs <packaging> (cargo in packages) or <bulk/> (cargo in bulk)"
                )
            case (_?, _?):
                add(
                    BatchXML.join(path, "packaging"), "xml.choice",
                    "<goodsItem> at line \(e.line) has both <packaging> and <bulk/>; cargo is in packages or in bulk, not both"
                )
            }

            var grossWeight: Measure?
            var grossVolume: Measure?
            switch (kids.first("grossWeight"), kids.first("grossVolume")) {
            case (let w?, nil): grossWeight = measure(w, at: BatchXML.join(path, "grossWeight"))
            case (nil, let v?): grossVolume = measure(v, at: BatchXML.join(path, "grossVolume"))
            case (nil, nil):
                add(
                    BatchXML.join(path, "grossWeight"), "xml.missing",
                    "<goodsItem> at line \(e.line) needs <grossWeight> or <grossVolume>")
            case (_?, _?):
                add(
                    BatchXML.join(path, "grossWeight"), "xml.choice",
                    "<goodsItem> at line \(e.line) has both <grossWeight> and <grossVolume>; give one of them"
                )
            }
            let netQuantity = kids.first("netQuantity").flatMap {
                measure($0, at: BatchXML.join(path, "netQuantity"))
            }
            var permits: [Permit] = []
            for (i, p) in kids.all("permit").enumerated() {
                let pPath = BatchXML.join(path, "permits[\(i)]")
                let pKids = children(of: p, at: pPath, slots: BatchXML.permitSlots)
                let number = required(pKids, "number", at: pPath)
                let authority = required(pKids, "issuingAuthority", at: pPath)
                let type = required(pKids, "type", at: pPath)
                if let number, let authority, let type {
                    permits.append(Permit(number: number, issuingAuthority: authority, type: type))
                }
            }
            guard issues.count == before, let description else { return nil }
            return GoodsItem(
                description: description, packaging: packaging, grossWeight: grossWeight,
                grossVolume: grossVolume,
                netQuantity: netQuantity, permits: permits)
        }

        /// `<grossWeight unit="KGM">550</grossWeight>`: issues name
        /// `path.value` or `path.unit`, as the JSON API's Measure does.
        mutating func measure(_ e: Element, at path: String) -> Measure? {
            noAttributes(e, at: path, except: ["unit"])
            for child in e.children {
                add(
                    BatchXML.join(path, child.name), "xml.unknown-element",
                    "<\(e.name)> holds a number only; unexpected <\(child.name)> at line \(child.line)")
            }
            let text = BatchXML.normalized(e.text)
            let value = BatchXML.measureValue(text)
            if value == nil {
                add(
                    BatchXML.join(path, "value"), "xml.number",
                    "<\(e.name)> at line \(e.line) is \"\(text)\"; it is a decimal number greater than 0 and at most 999999999999, e.g. 550 or 12.5"
                )
            }
            var unit: String?
            if let raw = e.attributes["unit"] {
                let code = BatchXML.normalized(raw)
                if BatchXML.isUnitCode(code) {
                    unit = code
                } else {
                    add(
                        BatchXML.join(path, "unit"), "xml.format",
                        "the unit of <\(e.name)> at line \(e.line) is \"\(code)\"; it is a UN/ECE Recommendation 20 code of 2 or 3 capitals or digits, e.g. KGM, TNE, MTQ, LTR, PCE"
                    )
                }
            } else {
                add(
                    BatchXML.join(path, "unit"), "xml.missing",
                    "<\(e.name)> at line \(e.line) needs a unit attribute, e.g. unit=\"KGM\"")
            }
            guard let value, let unit else { return nil }
            return Measure(value: value, unit: unit)
        }

        mutating func transhipment(_ e: Element, at path: String) -> Transhipment? {
            let kids = children(of: e, at: path, slots: BatchXML.transhipmentSlots)
            let loading = required(kids, "portOfLoading", at: path)
            let discharge = required(kids, "portOfDischarge", at: path)
            let conveyance = optional(kids, "conveyanceReference", at: path)
            guard let loading, let discharge else { return nil }
            return Transhipment(
                portOfLoading: loading, portOfDischarge: discharge, conveyanceReference: conveyance)
        }

        mutating func actingOnBehalf(_ e: Element, at path: String) -> ActingOnBehalf? {
            let kids = children(of: e, at: path, slots: BatchXML.actingOnBehalfSlots)
            let role = enumeration(
                kids, "agentRole", at: path, ActingOnBehalf.AgentRole.allCases.map { ($0.rawValue, $0) })
            let type = enumeration(
                kids, "shipperType", at: path, ActingOnBehalf.ShipperType.allCases.map { ($0.rawValue, $0) })
            let name = required(kids, "shipperName", at: path)
            let hkid = optional(kids, "hkid", at: path)
            let br = optional(kids, "businessRegistration", at: path)
            guard let role, let type, let name else { return nil }
            return ActingOnBehalf(
                agentRole: role, shipperType: type, shipperName: name, hkid: hkid, businessRegistration: br)
        }

        /// `YYYY-MM-DD`, years 1900 to 9999, a real calendar day.
        mutating func date(_ kids: Children, _ xml: String, at path: String) -> CalendarDay? {
            guard let text = required(kids, xml, at: path) else { return nil }
            let digitsOK =
                text.utf8.count == 10
                && text.utf8.enumerated().allSatisfy { i, c in
                    i == 4 || i == 7
                        ? c == UInt8(ascii: "-") : (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(c)
                }
            if digitsOK, let day = try? CalendarDay(text) { return day }
            add(
                BatchXML.join(path, xml), "xml.date",
                "<\(xml)> at line \(kids.first(xml)!.line) is \"\(text)\"; it is a calendar date written YYYY-MM-DD (Hong Kong day), e.g. 2009-11-07"
            )
            return nil
        }
    }

}
