#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// A failure reported by libgpiod, with the `errno` the kernel or library set.
///
/// The `errno` is kept as a number so that callers can react to specific
/// causes (`EBUSY` when another consumer holds a line, `ENOENT` for a missing
/// chip, `EACCES` when the udev rule did not hand the chip to group `gpio`);
/// `description` turns it into a sentence an operator can act on.
public enum GPIOError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The chip could not be opened. `path` is what the caller gave: a path,
    /// or for a lookup a name, label or number.
    case openFailed(path: String, errno: Int32)
    /// The chip has no usable line at this offset (usually `EINVAL`: out of range).
    case lineUnavailable(chip: String, offset: UInt32, errno: Int32)
    /// The kernel refused the event request (`EBUSY`: another consumer holds the line).
    case requestFailed(chip: String, offset: UInt32, errno: Int32)
    /// Waiting for an edge failed.
    case waitFailed(chip: String, offset: UInt32, errno: Int32)
    /// Reading a queued edge failed.
    case readFailed(chip: String, offset: UInt32, errno: Int32)
    /// The kernel reported an event type this wrapper does not know.
    case unknownEventType(chip: String, offset: UInt32, type: Int32)
    /// No line has this name: on `chip`, or on any chip when `chip` is `nil`.
    /// `errno` is `ENOENT` when the search ran and found nothing; anything else
    /// means a chip could not be asked.
    case lineNotFound(chip: String?, name: String, errno: Int32)
    /// The kernel refused to request a line as an output.
    case outputRequestFailed(chip: String, offset: UInt32, errno: Int32)
    /// Reading or setting a requested line's value failed.
    case valueFailed(chip: String, offset: UInt32, errno: Int32)

    /// The `errno` behind this error, if there is one.
    public var errorNumber: Int32? {
        switch self {
        case .openFailed(_, let code), .lineUnavailable(_, _, let code), .requestFailed(_, _, let code),
            .waitFailed(_, _, let code), .readFailed(_, _, let code), .lineNotFound(_, _, let code),
            .outputRequestFailed(_, _, let code), .valueFailed(_, _, let code):
            return code
        case .unknownEventType:
            return nil
        }
    }

    public var description: String {
        switch self {
        case .openFailed(let path, let code):
            return "cannot open GPIO chip \(path): \(Self.explain(code))"
        case .lineUnavailable(let chip, let offset, let code):
            return "GPIO chip \(chip) has no line \(offset): \(Self.explain(code))"
        case .requestFailed(let chip, let offset, let code):
            return "cannot request edge events on \(chip) line \(offset): \(Self.explain(code))"
        case .waitFailed(let chip, let offset, let code):
            return "waiting for an edge on \(chip) line \(offset) failed: \(Self.explain(code))"
        case .readFailed(let chip, let offset, let code):
            return "reading an edge on \(chip) line \(offset) failed: \(Self.explain(code))"
        case .unknownEventType(let chip, let offset, let type):
            return "unknown GPIO event type \(type) on \(chip) line \(offset)"
        case .lineNotFound(nil, let name, ENOENT):
            return "no GPIO chip has a line named \"\(name)\""
        case .lineNotFound(let chip?, let name, ENOENT):
            return "GPIO chip \(chip) has no line named \"\(name)\""
        case .lineNotFound(let chip, let name, let code):
            let place = chip ?? "every GPIO chip"
            return "looking for the line named \"\(name)\" on \(place) failed: \(Self.explain(code))"
        case .outputRequestFailed(let chip, let offset, let code):
            return "cannot request \(chip) line \(offset) as an output: \(Self.explain(code))"
        case .valueFailed(let chip, let offset, let code):
            return "reading or setting the value of \(chip) line \(offset) failed: \(Self.explain(code))"
        }
    }

    /// "No such file or directory (ENOENT)": the text for people, the symbol for searching logs.
    static func explain(_ code: Int32) -> String {
        let text = strerror(code).map { String(cString: $0) } ?? "error \(code)"
        guard let name = errnoNames[code] else { return text }
        return "\(text) (\(name))"
    }

    // glibc's strerrorname_np is hidden behind _GNU_SOURCE, which Swift's Glibc
    // module does not define; the causes a GPIO chip can produce are few enough to list.
    private static let errnoNames: [Int32: String] = [
        EPERM: "EPERM", ENOENT: "ENOENT", EINTR: "EINTR", EIO: "EIO", ENXIO: "ENXIO",
        EBADF: "EBADF", EAGAIN: "EAGAIN", ENOMEM: "ENOMEM", EACCES: "EACCES", EFAULT: "EFAULT",
        EBUSY: "EBUSY", ENODEV: "ENODEV", ENOTDIR: "ENOTDIR", EISDIR: "EISDIR", EINVAL: "EINVAL",
        EMFILE: "EMFILE", ENOTTY: "ENOTTY", ENOSYS: "ENOSYS", EOPNOTSUPP: "EOPNOTSUPP",
        ETIMEDOUT: "ETIMEDOUT", ELOOP: "ELOOP", ENAMETOOLONG: "ENAMETOOLONG",
    ]
}
