/// Which face of the CJK font collection a text is drawn with. The glyph
/// forms of Han characters differ between them; Latin glyphs do not.
public enum FontScript: String, Sendable, Hashable, CaseIterable {
    case traditionalChinese
    case simplifiedChinese
}

public enum FontWeight: String, Sendable, Hashable, CaseIterable {
    case regular
    case bold
}

/// A face and a size: enough to measure and draw a line of text.
public struct TextStyle: Sendable, Hashable {
    public var script: FontScript
    public var weight: FontWeight
    /// The em, in pixels (SDL_ttf's point size at its default 72 dpi).
    public var size: Int

    public init(script: FontScript, weight: FontWeight, size: Int) {
        self.script = script
        self.weight = weight
        self.size = size
    }
}

/// Measures text as the renderer will draw it. The layout is pure and takes
/// one of these; Displays supplies SDL_ttf's measurements, tests may supply
/// their own.
public protocol TextMeasurer {
    /// The width in pixels of `text` drawn on one line in `style`.
    func width(of text: String, in style: TextStyle) -> Int
    /// The distance between baselines of consecutive lines in `style`, which
    /// is also the height of one drawn line.
    func lineHeight(of style: TextStyle) -> Int
}

/// Breaks text into lines that fit a width, the way Chinese and English are
/// broken: English between words, Chinese between any two characters, except
/// that closing punctuation never starts a line and opening punctuation never
/// ends one.
public enum TextWrapper {
    /// The lines of `text` in `style`, each at most `maxWidth` pixels wide.
    ///
    /// - Parameter breakWords: Whether a word wider than the line may be broken
    ///   between letters; when false such a word makes the result `nil`.
    /// - Returns: `nil` when some piece cannot fit; empty for empty text.
    public static func lines(
        of text: String, in style: TextStyle, maxWidth: Int, measurer: some TextMeasurer,
        breakWords: Bool = false
    ) -> [String]? {
        var lines: [String] = []
        var line = ""
        let fits = { (candidate: String) in
            measurer.width(of: trimmedTrailingSpaces(candidate), in: style) <= maxWidth
        }
        for atom in atoms(of: text) {
            if atom == "\n" {
                lines.append(trimmedTrailingSpaces(line))
                line = ""
                continue
            }
            if fits(line + atom) {
                line += atom
                continue
            }
            if !line.isEmpty {
                lines.append(trimmedTrailingSpaces(line))
                line = ""
            }
            if fits(atom) {
                line = atom
                continue
            }
            guard breakWords else { return nil }
            for character in atom {
                if !line.isEmpty && !fits(line + String(character)) {
                    lines.append(trimmedTrailingSpaces(line))
                    line = ""
                }
                // A single glyph wider than the line stays on a line of its own.
                line.append(character)
            }
        }
        if !line.isEmpty { lines.append(trimmedTrailingSpaces(line)) }
        return lines
    }

    /// Pieces that stay together on a line, each with its trailing spaces.
    /// A forced line break is the piece `"\n"`.
    static func atoms(of text: String) -> [String] {
        var atoms: [String] = []
        var current = ""
        func flush() {
            if !current.isEmpty { atoms.append(current) }
            current = ""
        }
        for character in text {
            if character == "\n" {
                flush()
                atoms.append("\n")
            } else if character.isWhitespace {
                if current.isEmpty, let last = atoms.indices.last, atoms[last] != "\n" {
                    atoms[last].append(character)
                } else {
                    current.append(character)
                    flush()
                }
            } else if isClosing(character) {
                if current.isEmpty, let last = atoms.indices.last, atoms[last] != "\n" {
                    atoms[last].append(character)
                } else {
                    current.append(character)
                }
            } else if isWideOpening(character) {
                flush()
                current.append(character)
            } else if isWide(character) {
                if let last = current.last, isWideOpening(last) {
                    current.append(character)
                    flush()
                } else {
                    flush()
                    atoms.append(String(character))
                }
            } else {
                current.append(character)
            }
        }
        flush()
        return atoms
    }

    /// Han, kana, CJK punctuation and full-width forms: each may stand alone on a line's edge.
    static func isWide(_ character: Character) -> Bool {
        guard let scalar = character.unicodeScalars.first?.value else { return false }
        return (0x2E80...0x9FFF).contains(scalar) || (0xF900...0xFAFF).contains(scalar)
            || (0xFE30...0xFE4F).contains(scalar) || (0xFF00...0xFFEF).contains(scalar)
            || (0x20000...0x3FFFF).contains(scalar)
    }

    // Sets of scalars, not a String's `contains`: that walks the string's
    // grapheme clusters for every character asked about, and the layout's
    // size search asks for every character of every line at every size.
    private static let closing = Set("，。、：；！？）」』〉》】,.:;!?)".unicodeScalars)
    private static let wideOpening = Set("（「『〈《【".unicodeScalars)

    /// Never at the start of a line.
    static func isClosing(_ character: Character) -> Bool {
        character.unicodeScalars.count == 1 && closing.contains(character.unicodeScalars.first!)
    }

    /// Never at the end of a line (wide forms only; a Latin "(" is part of its word).
    static func isWideOpening(_ character: Character) -> Bool {
        character.unicodeScalars.count == 1 && wideOpening.contains(character.unicodeScalars.first!)
    }

    static func trimmedTrailingSpaces(_ text: String) -> String {
        var text = text
        while let last = text.last, last.isWhitespace { text.removeLast() }
        return text
    }
}
