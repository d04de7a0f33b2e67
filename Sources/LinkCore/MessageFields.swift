import Foundation
import RoadCargo

// How RoadCargo's values are written in message fields. Enum codes are
// spelled out here, not derived from declaration order or raw strings, so
// reordering or renaming a case in RoadCargo cannot change the wire.

extension Instruction {
    var wireCode: UInt8 {
        switch self {
        case .welcome: 1
        case .stop: 2
        case .dropManifest: 3
        case .cleared: 4
        case .inspect: 5
        case .closed: 6
        }
    }
}

extension Reason {
    var wireCode: UInt8 {
        switch self {
        case .bundleOK: 1
        case .unladen: 2
        case .paperManifest: 3
        case .unladenConflict: 4
        case .earlyCrossing: 5
        case .ccrnExpired: 6
        case .targeted: 7
        case .random: 8
        case .noBundle: 9
        case .systemUnavailable: 10
        case .officerRelease: 11
        case .officerDivert: 12
        }
    }
}

extension DecisionNote {
    var wireCode: UInt8 {
        switch self {
        case .controlPointChanged: 1
        case .offline: 2
        }
    }
}

extension Direction {
    var wireCode: UInt8 {
        switch self {
        case .inbound: 1
        case .outbound: 2
        }
    }
}

extension BundleStatus {
    var wireCode: UInt8 {
        switch self {
        case .active: 1
        case .debundled: 2
        case .used: 3
        case .claimed: 4
        }
    }
}

extension WireWriter {
    mutating func instruction(_ v: Instruction) { u8(v.wireCode) }
    mutating func reason(_ v: Reason) { u8(v.wireCode) }
    mutating func direction(_ v: Direction) { u8(v.wireCode) }
    mutating func bundleStatus(_ v: BundleStatus) { u8(v.wireCode) }

    /// ASCII with a u8 length; validated on the way in.
    mutating func vrn(_ v: VRN) throws(WireError) { try string(v.value, field: "vrn", short: true) }
    mutating func laneID(_ v: LaneID) throws(WireError) { try string(v.value, field: "lane id", short: true) }

    /// The 10-digit reference as an unsigned integer (check digit included):
    /// 8 bytes instead of 11 for a length and the digits.
    mutating func reference(_ v: some CheckedReference) { u64(UInt64(v.value)!) }

    /// Days since 1970-01-01 (a Hong Kong calendar day), i32.
    mutating func day(_ v: CalendarDay) throws(WireError) {
        guard let d = Int32(exactly: v.daysSinceEpoch) else {
            throw .tooLarge(field: "calendar day", count: v.daysSinceEpoch, limit: Int(Int32.max))
        }
        u32(UInt32(bitPattern: d))
    }

    mutating func optional<T>(_ v: T?, _ body: (inout WireWriter, T) throws(WireError) -> Void)
        throws(WireError)
    {
        guard let v else { return u8(0) }
        u8(1)
        try body(&self, v)
    }

    /// A u16 count, then each element.
    mutating func list<T>(
        _ vs: [T], field: String, _ body: (inout WireWriter, T) throws(WireError) -> Void
    ) throws(WireError) {
        try count(vs.count, field: field)
        for v in vs { try body(&self, v) }
    }
}

extension WireReader {
    /// Finds the case whose code is `code`, or throws naming the field.
    private func decodeEnum<T: CaseIterable>(_ code: UInt8, _ field: String, _ wireCode: (T) -> UInt8)
        throws(WireError) -> T
    {
        guard let v = T.allCases.first(where: { wireCode($0) == code }) else {
            throw .unknownTag(field: field, value: UInt64(code))
        }
        return v
    }

    mutating func instruction(_ field: String = "instruction") throws(WireError) -> Instruction {
        try decodeEnum(try u8(field), field, \Instruction.wireCode)
    }

    mutating func reason(_ field: String = "reason") throws(WireError) -> Reason {
        try decodeEnum(try u8(field), field, \Reason.wireCode)
    }

    mutating func note() throws(WireError) -> DecisionNote {
        try decodeEnum(try u8("decision note"), "decision note", \DecisionNote.wireCode)
    }

    mutating func direction() throws(WireError) -> Direction {
        try decodeEnum(try u8("direction"), "direction", \Direction.wireCode)
    }

    mutating func bundleStatus() throws(WireError) -> BundleStatus {
        try decodeEnum(try u8("bundle status"), "bundle status", \BundleStatus.wireCode)
    }

    mutating func vrn() throws(WireError) -> VRN {
        let raw = try string("vrn", short: true)
        // Only the canonical spelling: "ab 12" would parse to "AB12" and the
        // same VRN would then have two encodings.
        guard let v = try? VRN(raw), v.value == raw else {
            throw .invalidValue(field: "vrn", detail: "\"\(raw)\" is not a normalised VRN")
        }
        return v
    }

    mutating func laneID() throws(WireError) -> LaneID {
        let raw = try string("lane id", short: true)
        do { return try LaneID(raw) } catch {
            throw .invalidValue(field: "lane id", detail: error.description)
        }
    }

    mutating func reference<R: CheckedReference>(_: R.Type) throws(WireError) -> R {
        let field = R.kindName
        let n = try u64(field)
        guard n < 10_000_000_000 else {
            throw .invalidValue(field: field, detail: "\(n) has more than 10 digits")
        }
        let digits = String(n)
        do { return try R(String(repeating: "0", count: 10 - digits.count) + digits) } catch {
            throw .invalidValue(field: field, detail: error.description)
        }
    }

    mutating func day(_ field: String = "calendar day") throws(WireError) -> CalendarDay {
        CalendarDay(daysSinceEpoch: Int(Int32(bitPattern: try u32(field))))
    }

    mutating func optional<T>(_ field: String, _ body: (inout WireReader) throws(WireError) -> T)
        throws(WireError) -> T?
    {
        try bool("\(field) present") ? try body(&self) : nil
    }

    /// A u16 count, then each element; `minElementSize` rejects a count the
    /// remaining bytes cannot hold before any element is read.
    mutating func list<T>(
        _ field: String, minElementSize: Int, _ body: (inout WireReader) throws(WireError) -> T
    ) throws(WireError) -> [T] {
        let n = try count(field, minElementSize: minElementSize)
        var out: [T] = []
        out.reserveCapacity(n)
        for _ in 0..<n { out.append(try body(&self)) }
        return out
    }
}
