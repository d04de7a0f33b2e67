import ClearanceCore
import Foundation
import RoadCargo

#if canImport(FoundationXML)
    // On Linux XMLParser lives in its own module, over libxml2.
    import FoundationXML
#endif

/// The batch upload file: up to 999 consignments in one XML document
/// (CLEARANCE-RULES.md, submission rule 5; the briefing's "Batch Upload").
///
/// The format is this project's own, described by `docs/batch/README.md` and
/// `docs/batch/consignment-batch.xsd`. Parsing only maps XML to
/// ``ConsignmentSubmission`` values and reports structural problems (missing,
/// unknown, repeated or misplaced elements, bad enumerations, dates and
/// numbers). The rules about content (the date window, the acting-on-behalf
/// section for agents...) are applied per record by the caller, through
/// `SubmissionRules.validate`, exactly as for a single JSON submission.
///
/// A problem with the file as a whole (not well-formed, a DTD, the wrong root,
/// namespace or version, too large, more than 999 records) refuses the whole
/// file; a problem inside one `<consignment>` refuses that record only.
public enum BatchXML {
    /// The XML namespace of version 1 of the format.
    public static let namespace = "urn:lanekiosk:consignment-batch:1"
    /// The only `version` attribute value this code reads.
    public static let version = "1"
    /// At most this many `<consignment>` elements per file (briefing); one
    /// more and the whole file is refused with rule `batch.too-many`.
    public static let maximumRecords = SubmissionRules.maximumBatch
    /// Files larger than 16 MiB are refused unread (`batch.too-large`): 999
    /// records of ordinary size fit in well under 4 MiB, and the cap bounds
    /// the memory and time one upload can take. The HTTP route should cap the
    /// request body at the same size.
    public static let maximumBytes = 16 * 1024 * 1024
    /// Deepest element nesting accepted (`batch.too-deep`); the format itself
    /// goes five deep (`consignmentBatch/consignment/goodsItem/permit/number`).
    public static let maximumDepth = 12
    /// Elements one `<consignment>` may hold, unknown ones included. Beyond
    /// it the record is refused (`xml.too-large`) and the rest of it is not
    /// kept in memory, so one record cannot exhaust the server.
    public static let maximumElementsPerRecord = 10_000
    /// Issues reported per record at most; a record with thousands of unknown
    /// elements gets this many and a closing `xml.too-many-issues`.
    public static let maximumIssuesPerRecord = 50

    /// One `<consignment>` of the file and what became of it.
    public struct Record: Sendable {
        /// 1-based position among the file's `<consignment>` elements.
        public var index: Int
        /// The record's `<senderReference>`, when it could be read, so that a
        /// refused record can still be matched to the sender's own.
        public var senderReference: String?
        /// The submission, or every structural issue found in the record,
        /// with fields named as in the JSON API (`consignee.addressLines[1]`).
        public var result: Result<ConsignmentSubmission, ValidationFailure>

        public init(
            index: Int, senderReference: String?, result: Result<ConsignmentSubmission, ValidationFailure>
        ) {
            self.index = index
            self.senderReference = senderReference
            self.result = result
        }
    }

    /// The optional `<submitter>` header. Informational only: who submits is
    /// decided by the caller's authenticated account, never by the file.
    public struct Submitter: Sendable, Hashable {
        /// Who prepared the file, as they call themselves.
        public var name: String
        /// The sender's own reference for the whole file (the briefing's
        /// "Batch No."), to be echoed in the response.
        public var batchReference: String?

        public init(name: String, batchReference: String? = nil) {
            self.name = name
            self.batchReference = batchReference
        }
    }

    /// A parsed file: its header and its records, in file order.
    public struct Batch: Sendable {
        public var submitter: Submitter?
        public var records: [Record]

        public init(submitter: Submitter?, records: [Record]) {
            self.submitter = submitter
            self.records = records
        }
    }

    /// Parses a batch file into one record per `<consignment>`.
    ///
    /// Throws ValidationFailure for a file that is not well-formed XML, has the
    /// wrong root/namespace/version, or holds more than 999 records (then the
    /// whole file is refused; rule `batch.too-many`, detail says how many).
    public static func parse(_ data: Data) throws(ValidationFailure) -> [Record] {
        try parseBatch(data).records
    }

    /// Like ``parse(_:)``, and also returns the optional `<submitter>` header.
    public static func parseBatch(_ data: Data) throws(ValidationFailure) -> Batch {
        guard data.count <= maximumBytes else {
            throw fileFailure(
                "batch.too-large",
                "the file is \(data.count) bytes; a batch file may be at most \(maximumBytes) bytes (16 MiB)")
        }
        guard !data.isEmpty else { throw fileFailure("batch.malformed", "the file is empty") }
        try checkProlog(data)

        let reader = SAXReader()
        let parser = XMLParser(data: data)
        parser.shouldProcessNamespaces = true
        parser.shouldReportNamespacePrefixes = false
        // Belt and braces: checkProlog already refused any DTD, so there is no
        // entity to resolve; this also keeps libxml2 from fetching anything.
        parser.shouldResolveExternalEntities = false
        parser.delegate = reader
        // swift-corelibs-foundation parses in libxml2's recover mode and may
        // return true after an error: the delegate's first error is what counts.
        let finished = parser.parse()
        if let failure = reader.failure { throw failure }
        if !finished || !reader.sawRoot {
            throw fileFailure(
                "batch.malformed",
                "the file is not well-formed XML: \(parser.parserError.map(describe) ?? "no root element")")
        }
        if reader.consignmentCount > maximumRecords {
            throw fileFailure(
                "batch.too-many",
                "the file holds \(reader.consignmentCount) consignments; a batch file holds at most \(maximumRecords)"
            )
        }
        if reader.consignmentCount == 0 {
            throw fileFailure(
                "batch.empty", "the file holds no <consignment>; it needs 1 to \(maximumRecords)")
        }
        return Batch(submitter: reader.submitter, records: reader.records)
    }

    static func fileFailure(_ rule: String, _ detail: String) -> ValidationFailure {
        ValidationFailure(field: "", rule: rule, detail: detail)
    }

    // MARK: - Before libxml2 sees the file

    /// Refuses a document type declaration, and any encoding but UTF-8,
    /// before the parser runs.
    ///
    /// On Linux, XMLParser gives the delegate no callback for a DTD or an
    /// entity declaration and substitutes entities silently, so the only safe
    /// place to refuse them (external entities, "billion laughs") is here. A
    /// DOCTYPE can only stand in the prolog, before the root element; the
    /// prolog is scanned as bytes, which is sound because the file is
    /// required to be UTF-8 (ASCII-compatible).
    static func checkProlog(_ data: Data) throws(ValidationFailure) {
        // The whole file, not a prefix: a long comment must not hide a DOCTYPE
        // behind the end of a scanned window.
        let bytes = [UInt8](data)
        func has(_ prefix: String, at i: Int) -> Bool {
            let p = Array(prefix.utf8)
            return i + p.count <= bytes.count && bytes[i..<(i + p.count)].elementsEqual(p)
        }
        func find(_ needle: String, from i: Int) -> Int? {
            let n = Array(needle.utf8)
            var j = i
            while j + n.count <= bytes.count {
                if bytes[j] == n[0], bytes[j..<(j + n.count)].elementsEqual(n) { return j }
                j += 1
            }
            return nil
        }
        let notUTF8 = fileFailure(
            "batch.encoding", "a batch file must be encoded in UTF-8 (with or without a byte order mark)")
        if bytes.starts(with: [0xFE, 0xFF]) || bytes.starts(with: [0xFF, 0xFE]) || bytes.first == 0 {
            throw notUTF8
        }
        var i = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        if has("<?xml", at: i), let end = find("?>", from: i) {
            let declaration = String(decoding: bytes[i..<end], as: UTF8.self)
            if let encoding = pseudoAttribute("encoding", in: declaration), encoding.lowercased() != "utf-8" {
                throw notUTF8
            }
        }
        while i < bytes.count {
            switch bytes[i] {
            case 0x20, 0x09, 0x0A, 0x0D:
                i += 1
            case UInt8(ascii: "<") where has("<!--", at: i):
                guard let end = find("-->", from: i + 4) else { return }
                i = end + 3
            case UInt8(ascii: "<") where has("<?", at: i):
                guard let end = find("?>", from: i + 2) else { return }
                i = end + 2
            case UInt8(ascii: "<") where has("<!", at: i):
                throw fileFailure(
                    "batch.doctype",
                    "a batch file must not contain a document type declaration (<!DOCTYPE ...>) or entity declarations; they are refused to keep the parser safe"
                )
            default:
                // The root element, or something libxml2 will call malformed.
                return
            }
        }
    }

    /// The value of `name="..."` (or `'...'`) in an XML declaration.
    static func pseudoAttribute(_ name: String, in declaration: String) -> String? {
        guard let r = declaration.range(of: name) else { return nil }
        var rest = declaration[r.upperBound...].drop(while: {
            $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n"
        })
        guard rest.first == "=" else { return nil }
        rest = rest.dropFirst().drop(while: { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" })
        guard let quote = rest.first, quote == "\"" || quote == "'" else { return nil }
        return String(rest.dropFirst().prefix(while: { $0 != quote }))
    }

    /// libxml2's error, which reaches Swift as a bare code, in words.
    ///
    /// The code is libxml2's own `xmlParserErrors` value (Apple's
    /// NSXMLParserError uses the same numbers); swift-corelibs-foundation's
    /// `XMLParser.ErrorCode` cases are off by one against it, so the numbers
    /// are matched directly.
    static func describe(_ error: any Error) -> String {
        let code = (error as NSError).code
        let words: String
        switch code {
        case 4: words = "the document is empty"
        case 5: words = "the document ends too early, or has content after the root element"
        case 6, 7, 8: words = "a character reference is invalid"
        case 9: words = "a character is not allowed in XML"
        case 23: words = "an entity reference lacks its ';'"
        case 26: words = "an undeclared entity is referenced (a literal '&' is written &amp;)"
        case 31, 32, 81: words = "the encoding is not UTF-8, or the text is not valid in it"
        case 38: words = "an attribute value contains '<'"
        case 39, 40, 41: words = "an attribute value is not quoted properly"
        case 42: words = "an attribute is given twice"
        case 68: words = "a name is expected ('<' in text is written &lt;)"
        case 72, 73, 77: words = "a tag is not closed"
        case 74, 76: words = "an end tag does not match its start tag"
        case 86: words = "there is content after the root element"
        case 201: words = "a namespace prefix is not declared"
        default: words = "the XML parser stopped"
        }
        return "\(words) (libxml2 error \(code))"
    }
}

// MARK: - The SAX pass

extension BatchXML {
    /// An element as kept for mapping: only within one `<consignment>` or the
    /// `<submitter>`, and dropped as soon as that is mapped.
    struct Element {
        var name: String
        var namespace: String
        var attributes: [String: String]
        var text = ""
        var children: [Element] = []
        var line: Int
    }

    /// Receives libxml2's events, checks the file-level structure and builds
    /// one small element tree per top-level child, mapping each as it closes
    /// so memory stays bounded by one record.
    final class SAXReader: NSObject, XMLParserDelegate {
        private(set) var failure: ValidationFailure?
        private(set) var records: [Record] = []
        private(set) var submitter: Submitter?
        private(set) var consignmentCount = 0
        private(set) var sawRoot = false

        private var depth = 0
        /// Open elements of the top-level child being kept; empty otherwise.
        private var stack: [Element] = []
        private var keeping = false
        private var elementsInRecord = 0
        private var recordOverflowed = false
        private var sawSubmitter = false

        private func fail(_ parser: XMLParser, _ rule: String, _ detail: String) {
            guard failure == nil else { return }
            failure = BatchXML.fileFailure(rule, detail)
            parser.abortParsing()
        }

        func parser(
            _ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
            attributes: [String: String] = [:]
        ) {
            guard failure == nil else { return }
            depth += 1
            let line = parser.lineNumber
            let ns = namespaceURI ?? ""
            if depth > BatchXML.maximumDepth {
                return fail(
                    parser, "batch.too-deep",
                    "elements nest more than \(BatchXML.maximumDepth) deep at line \(line); the format needs 5"
                )
            }
            switch depth {
            case 1:
                startRoot(parser, name: name, namespace: ns, attributes: attributes, line: line)
            case 2:
                guard ns == BatchXML.namespace, name == "consignment" || name == "submitter" else {
                    return fail(
                        parser, "batch.unexpected",
                        "unexpected element <\(name)>\(namespaceNote(ns)) at line \(line); <consignmentBatch> holds an optional <submitter> and then 1 to \(BatchXML.maximumRecords) <consignment> elements"
                    )
                }
                if name == "submitter" {
                    guard !sawSubmitter, consignmentCount == 0 else {
                        return fail(
                            parser, "batch.unexpected",
                            "<submitter> at line \(line) must come once, before the first <consignment>")
                    }
                    sawSubmitter = true
                } else {
                    consignmentCount += 1
                    // Past the limit the file will be refused whole; keep
                    // counting so the refusal can say how many there are.
                    guard consignmentCount <= BatchXML.maximumRecords else { return }
                }
                keeping = true
                elementsInRecord = 1
                recordOverflowed = false
                stack = [Element(name: name, namespace: ns, attributes: attributes, line: line)]
            default:
                guard keeping else { return }
                elementsInRecord += 1
                if elementsInRecord > BatchXML.maximumElementsPerRecord {
                    recordOverflowed = true
                    keeping = false
                    return
                }
                stack.append(Element(name: name, namespace: ns, attributes: attributes, line: line))
            }
        }

        private func startRoot(
            _ parser: XMLParser, name: String, namespace ns: String, attributes: [String: String], line: Int
        ) {
            sawRoot = true
            guard name == "consignmentBatch", ns == BatchXML.namespace else {
                return fail(
                    parser, "batch.root",
                    "the root element is <\(name)>\(namespaceNote(ns)); a batch file's root is <consignmentBatch xmlns=\"\(BatchXML.namespace)\" version=\"\(BatchXML.version)\">"
                )
            }
            guard let raw = attributes["version"] else {
                return fail(
                    parser, "batch.version",
                    "<consignmentBatch> needs version=\"\(BatchXML.version)\"; the version attribute is missing"
                )
            }
            let version = BatchXML.normalized(raw)
            guard version == BatchXML.version else {
                return fail(
                    parser, "batch.version",
                    "version \"\(version)\" of the batch format is not supported; this server reads version \(BatchXML.version)"
                )
            }
            // Prefixed attributes belong to other namespaces (xsi:schemaLocation);
            // the XSD allows them on the root through anyAttribute ##other.
            if let unknown = attributes.keys.sorted().first(where: { $0 != "version" && !$0.contains(":") }) {
                return fail(
                    parser, "batch.root",
                    "<consignmentBatch> has an unknown attribute \"\(unknown)\"; it takes only version")
            }
        }

        func parser(
            _ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?
        ) {
            defer { depth -= 1 }
            guard failure == nil else { return }
            if depth >= 3 {
                if keeping, stack.count >= 2 {
                    let done = stack.removeLast()
                    stack[stack.count - 1].children.append(done)
                }
                return
            }
            guard depth == 2 else { return }
            defer {
                stack = []
                keeping = false
            }
            if name == "submitter" {
                guard let element = stack.first else { return }
                var mapper = RecordMapper()
                let header = mapper.submitter(element)
                if !mapper.issues.isEmpty {
                    failure = ValidationFailure(mapper.issues)
                    parser.abortParsing()
                    return
                }
                submitter = header
                return
            }
            guard consignmentCount <= BatchXML.maximumRecords, let element = stack.first else { return }
            records.append(BatchXML.record(element, index: consignmentCount, overflowed: recordOverflowed))
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            guard failure == nil else { return }
            if keeping, !stack.isEmpty {
                stack[stack.count - 1].text += string
            } else if depth == 1, !BatchXML.normalized(string).isEmpty {
                fail(
                    parser, "batch.unexpected",
                    "text directly inside <consignmentBatch> at line \(parser.lineNumber); it holds elements only"
                )
            }
        }

        func parser(_ parser: XMLParser, foundCDATA block: Data) {
            self.parser(parser, foundCharacters: String(decoding: block, as: UTF8.self))
        }

        func parser(_ parser: XMLParser, parseErrorOccurred error: any Error) {
            guard failure == nil else { return }
            fail(
                parser, "batch.malformed",
                "the file is not well-formed XML: line \(parser.lineNumber), column \(parser.columnNumber): \(BatchXML.describe(error))"
            )
        }

        private func namespaceNote(_ ns: String) -> String {
            ns.isEmpty ? " in no namespace" : ns == BatchXML.namespace ? "" : " in namespace \(ns)"
        }
    }

    /// Maps one kept `<consignment>` to its record.
    static func record(_ element: Element, index: Int, overflowed: Bool) -> Record {
        var mapper = RecordMapper()
        let reference = mapper.senderReference(of: element)
        if overflowed {
            return Record(
                index: index, senderReference: reference,
                result: .failure(
                    ValidationFailure(
                        field: "", rule: "xml.too-large",
                        detail:
                            "the <consignment> at line \(element.line) holds more than \(maximumElementsPerRecord) elements"
                    )))
        }
        let submission = mapper.consignment(element)
        if let submission, mapper.issues.isEmpty {
            return Record(index: index, senderReference: reference, result: .success(submission))
        }
        return Record(
            index: index, senderReference: reference, result: .failure(ValidationFailure(mapper.issues)))
    }

    /// XML Schema's `xs:token` normalisation: runs of space, tab, CR and LF
    /// become one space, and leading and trailing ones go. Applied to every
    /// text and attribute value, so the parser reads what the XSD validates.
    static func normalized(_ raw: String) -> String {
        var out = ""
        out.reserveCapacity(raw.utf8.count)
        var pendingSpace = false
        for scalar in raw.unicodeScalars {
            switch scalar {
            case " ", "\t", "\r", "\n":
                pendingSpace = !out.isEmpty
            default:
                if pendingSpace { out.unicodeScalars.append(" ") }
                pendingSpace = false
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
