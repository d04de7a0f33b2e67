import BoardLayout
import CSDL2

/// What `laned --check` finds wrong with the boards' ground before the lane
/// starts: the video driver the backend needs, the displays it addresses,
/// and the font's faces and glyphs.
///
/// Blocking (SDL initialisation, font files): call it from a thread of its
/// own, never from the cooperative pool.
public enum DisplayCheck {
    /// One thing wrong, by the part of the config it concerns.
    public struct Problem: Sendable, Hashable, CustomStringConvertible {
        public enum Part: Sendable, Hashable {
            /// The backend: its SDL video driver, or its displays.
            case backend
            /// The font file, a face of it, or its glyphs.
            case font
        }

        public var part: Part
        public var message: String

        public var description: String { message }
    }

    /// Starts SDL with the backend's video driver (as the lane would), checks
    /// the displays the boards go on, then ``fonts(_:context:)``.
    public static func problems(_ configuration: DisplayConfiguration) -> [Problem] {
        let backend = configuration.backend
        let context: SDLContext
        do { context = try SDLContext(videoDriver: backend.videoDriver) } catch {
            return [
                Problem(
                    part: .backend,
                    message:
                        "the \(backend.rawValue) backend cannot start: \(error); expected its SDL video driver "
                        + "(\(backend.videoDriver ?? "SDL's choice")) to work on this machine")
            ]
        }
        var problems: [Problem] = []
        if backend != .headless {
            let available = withSDLLock { Int(SDL_GetNumVideoDisplays()) }
            let needed = max(configuration.xdb.displayIndex, configuration.aiop.displayIndex) + 1
            if available < needed {
                problems.append(
                    Problem(
                        part: .backend,
                        message:
                            "the \(backend.rawValue) backend (\(context.videoDriver)) finds \(available) display(s); "
                            + "expected \(needed): the XDB on display \(configuration.xdb.displayIndex), "
                            + "the AIOP on \(configuration.aiop.displayIndex)"))
            }
        }
        return problems + fonts(configuration.fonts, context: context)
    }

    /// Opens every face the boards use and checks each has a glyph for
    /// every text the boards show, in Traditional and Simplified Chinese and
    /// English (``BoardText/allShippedStrings``).
    public static func fonts(_ configuration: FontConfiguration, context: SDLContext) -> [Problem] {
        let fonts: FontSet
        do { fonts = try FontSet(context: context, configuration: configuration) } catch {
            return [Problem(part: .font, message: "\(error)")]
        }
        var missing: [FontScript: [Unicode.Scalar]] = [:]
        for (text, script) in BoardText.allShippedStrings {
            for scalar in fonts.missingGlyphs(in: text, script: script)
            where !missing[script, default: []].contains(scalar) {
                missing[script, default: []].append(scalar)
            }
        }
        return FontScript.allCases.compactMap { script in
            guard let lacking = missing[script], !lacking.isEmpty else { return nil }
            let shown = lacking.prefix(12).map(String.init).joined(separator: " ")
            let more = lacking.count > 12 ? " and \(lacking.count - 12) more" : ""
            return Problem(
                part: .font,
                message:
                    "\(configuration.regularPath) face \(configuration.faceIndex(for: script)) lacks "
                    + "\(lacking.count) character(s) the boards show in \(script.rawValue): \(shown)\(more); "
                    + "expected a font with Han characters such as Noto Sans CJK (apt install fonts-noto-cjk)"
            )
        }
    }
}
