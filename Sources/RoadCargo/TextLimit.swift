/// A text field's length limit, in characters and in UTF-8 bytes.
///
/// A character (a grapheme cluster, what a person counts) can hold any
/// number of combining marks: 70 characters of 600 bytes each are 42 KB that
/// a character limit alone lets in. Every documented limit therefore has a
/// byte limit as well, by default four bytes per character: room for any
/// script (Chinese takes three bytes a character) and nothing more.
public struct TextLimit: Sendable, Hashable, CustomStringConvertible {
    /// How characters are counted where the limit is documented.
    public enum Unit: Sendable, Hashable {
        /// Grapheme clusters (Swift's `Character`): what a reader sees.
        case characters
        /// Unicode scalars: what JSON Schema's `maxLength` counts.
        case scalars
    }

    public var characters: Int
    public var bytes: Int
    public var unit: Unit

    /// - Parameter bytes: nil for four per character.
    public init(characters: Int, bytes: Int? = nil, unit: Unit = .characters) {
        self.characters = characters
        self.bytes = bytes ?? characters * 4
        self.unit = unit
    }

    /// `value`'s length in this limit's unit.
    public func length(of value: String) -> Int {
        switch unit {
        case .characters: value.count
        case .scalars: value.unicodeScalars.count
        }
    }

    /// Whether `value` keeps both limits. Bytes are counted first: they are
    /// cheap, and a text over them is not walked for its characters.
    public func allows(_ value: String) -> Bool {
        value.utf8.count <= bytes && length(of: value) <= characters
    }

    /// "at most 70 characters and 280 bytes of UTF-8".
    public var description: String { "at most \(characters) characters and \(bytes) bytes of UTF-8" }

    /// "has 70 characters and 42000 bytes": what a refusal reports.
    public func measured(_ value: String) -> String {
        "has \(length(of: value)) characters and \(value.utf8.count) bytes"
    }
}
