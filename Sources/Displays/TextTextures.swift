import BoardLayout
import CSDL2

/// Text already rendered, as textures of one SDL renderer, kept for the
/// frames that draw it again: a lane shows a handful of screens over and
/// over, and rendering a line with SDL_ttf is most of a frame's cost (the
/// faces are shared between sizes, so every size change flushes SDL_ttf's
/// own glyph cache).
///
/// Bounded by the bytes of its textures; the least recently drawn go first.
/// Only rendered lines are kept, never faces: layout's size search measures
/// with the shared faces and adds nothing here.
///
/// Not `Sendable`: used under the SDL lock on the thread that draws. Its
/// owner calls ``removeAll()`` before destroying the renderer (textures
/// belong to it).
final class TextTextures {
    struct Key: Hashable {
        var text: ByteKey
        var style: TextStyle
        var color: RGBAColor

        init(text: String, style: TextStyle, color: RGBAColor) {
            self.text = ByteKey(text)
            self.style = style
            self.color = color
        }
    }

    private struct Entry {
        var texture: OpaquePointer
        var size: Size
        var bytes: Int
        var lastUse: UInt64
    }

    /// The most texture bytes kept: about a dozen screens' worth of text on
    /// both boards, a few MiB of a lane's memory.
    let budget: Int
    private var entries: [Key: Entry] = [:]
    private var uses: UInt64 = 0
    private(set) var bytes = 0
    private(set) var hits = 0
    private(set) var misses = 0

    init(budget: Int = 6 << 20) {
        self.budget = budget
    }

    var count: Int { entries.count }

    /// Draws `key.text` in `font` with its top-left corner at `origin`,
    /// alpha-blended, from a kept texture when there is one.
    /// Call with the SDL lock held.
    /// - Parameter font: the face at the style's size; asked for only when
    ///   the line must be rendered (setting a shared face's size flushes
    ///   SDL_ttf's glyph cache, so a frame drawn from kept lines sets none).
    func draw(
        _ key: Key, font: () throws(DisplayError) -> Font, at origin: Point, on renderer: OpaquePointer
    ) throws(DisplayError) -> Rect {
        uses += 1
        let texture: OpaquePointer
        let size: Size
        var owned = false
        if let entry = entries[key] {
            hits += 1
            entries[key]!.lastUse = uses
            texture = entry.texture
            size = entry.size
        } else {
            misses += 1
            (texture, size) = try Self.render(key.text.text, color: key.color, font: try font(), on: renderer)
            let bytes = size.width * size.height * 4
            if bytes <= budget {
                entries[key] = Entry(texture: texture, size: size, bytes: bytes, lastUse: uses)
                self.bytes += bytes
                evict(keeping: key)
            } else {
                owned = true
            }
        }
        // Destroying a texture flushes any batched copy that uses it.
        defer { if owned { SDL_DestroyTexture(texture) } }
        let area = Rect(origin: origin, size: size)
        var destination = ScreenPainter.sdlRect(area)
        try ScreenPainter.check("SDL_RenderCopy", SDL_RenderCopy(renderer, texture, nil, &destination))
        return area
    }

    /// Destroys every kept texture. Call with the SDL lock held.
    func removeAll() {
        for entry in entries.values { SDL_DestroyTexture(entry.texture) }
        entries.removeAll()
        bytes = 0
    }

    private func evict(keeping kept: Key) {
        guard bytes > budget else { return }
        for (key, entry) in entries.sorted(by: { $0.value.lastUse < $1.value.lastUse }) where key != kept {
            SDL_DestroyTexture(entry.texture)
            entries[key] = nil
            bytes -= entry.bytes
            if bytes <= budget { return }
        }
    }

    /// `text` rendered anti-aliased (SDL_ttf "blended") as a texture that
    /// blends by its alpha, and its size; the caller destroys it.
    static func render(_ text: String, color: RGBAColor, font: Font, on renderer: OpaquePointer)
        throws(DisplayError) -> (OpaquePointer, Size)
    {
        let color = SDL_Color(r: color.red, g: color.green, b: color.blue, a: color.alpha)
        guard let rendered = TTF_RenderUTF8_Blended(font.handle, text, color) else {
            throw .sdl(call: "TTF_RenderUTF8_Blended", message: lastSDLError())
        }
        defer { SDL_FreeSurface(rendered) }
        guard let texture = SDL_CreateTextureFromSurface(renderer, rendered) else {
            throw .sdl(call: "SDL_CreateTextureFromSurface", message: lastSDLError())
        }
        if SDL_SetTextureBlendMode(texture, SDL_BLENDMODE_BLEND) != 0 {
            let error = DisplayError.sdl(call: "SDL_SetTextureBlendMode", message: lastSDLError())
            SDL_DestroyTexture(texture)
            throw error
        }
        return (texture, Size(width: Int(rendered.pointee.w), height: Int(rendered.pointee.h)))
    }
}
