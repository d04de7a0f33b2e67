import Foundation
import LinkCore
import RoadCargo

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

extension LinkKey {
    /// Key files are small; anything bigger is not a key file.
    static let maxFileSize = 4096

    /// Reads a key file, refusing one that group or others may read.
    ///
    /// The mode is checked on the opened descriptor (fstat), not the path, so
    /// the file checked is the file read.
    public static func load(from path: String) throws(LinkKeyError) -> LinkKey {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .unreadable(path: path, detail: String(cString: strerror(errno))) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            throw .unreadable(path: path, detail: String(cString: strerror(errno)))
        }
        guard st.st_mode & S_IFMT == S_IFREG else { throw .notRegularFile(path: path) }
        let mode = UInt32(st.st_mode) & 0o7777
        guard mode & 0o077 == 0 else { throw .tooOpen(path: path, mode: mode) }
        var bytes = [UInt8](repeating: 0, count: maxFileSize + 1)
        var filled = 0
        while filled < bytes.count {
            let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + filled, $0.count - filled) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .unreadable(path: path, detail: String(cString: strerror(errno)))
            }
            if n == 0 { break }
            filled += n
        }
        guard filled <= maxFileSize else { throw .malformed(source: path, detail: "file too large") }
        guard let text = String(validating: bytes[..<filled], as: UTF8.self) else {
            throw .malformed(source: path, detail: "not UTF-8 text")
        }
        return try LinkKey(fileContents: text, source: path)
    }

    /// Writes the key file with mode 0600, refusing to replace an existing
    /// file. `clearanced lane add` and lanectl call this.
    ///
    /// Created with O_EXCL so that two provisioning runs cannot both think
    /// they wrote the key; fchmod after creation because the umask may have
    /// removed bits from 0600 (it can never add any).
    public func write(to path: String) throws(LinkKeyError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            if errno == EEXIST { throw .exists(path: path) }
            throw .writeFailed(path: path, detail: String(cString: strerror(errno)))
        }
        var ok = false
        defer {
            close(fd)
            if !ok { unlink(path) }
        }
        guard fchmod(fd, 0o600) == 0 else {
            throw .writeFailed(path: path, detail: String(cString: strerror(errno)))
        }
        let bytes = Array(fileContents.utf8)
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { posixWrite(fd, $0.baseAddress! + written, $0.count - written) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .writeFailed(path: path, detail: String(cString: strerror(errno)))
            }
            written += n
        }
        // A key that is not on disk after a crash is worse than a slow write.
        guard fsync(fd) == 0 else {
            throw .writeFailed(path: path, detail: String(cString: strerror(errno)))
        }
        ok = true
    }

    /// Generates a key for `laneID` and writes it to `path` (mode 0600).
    @discardableResult
    public static func generate(for laneID: LaneID, writingTo path: String) throws(LinkKeyError) -> LinkKey {
        let key = generate(for: laneID)
        try key.write(to: path)
        return key
    }
}

/// Inside LinkKey, `write` names the method; this reaches the system call.
private func posixWrite(_ fd: Int32, _ buf: UnsafeRawPointer, _ count: Int) -> Int {
    write(fd, buf, count)
}
