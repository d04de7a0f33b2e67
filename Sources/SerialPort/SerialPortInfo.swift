import CSerialPort

/// A serial port the operating system knows, as listed by ``SerialPort/list()``.
public struct SerialPortInfo: Sendable, Hashable {
    /// How the port is attached.
    public enum Transport: Sendable, Hashable {
        /// A UART on the board or a PCI card (`/dev/ttyS*`, `/dev/ttyAMA*`).
        case native
        case usb
        case bluetooth
    }

    /// Identification of a USB adapter, so that configuration can name the
    /// adapter by serial number rather than by a `/dev/ttyUSB*` number that
    /// changes with plugging order.
    public struct USBDetails: Sendable, Hashable {
        public var vendorID: Int?
        public var productID: Int?
        public var manufacturer: String?
        public var product: String?
        public var serialNumber: String?
    }

    /// The path to open, such as `/dev/ttyUSB0`.
    public var name: String
    /// A human-readable description from the driver.
    public var description: String
    public var transport: Transport
    /// Present for ``Transport/usb``.
    public var usb: USBDetails?

    public init(name: String, description: String, transport: Transport, usb: USBDetails? = nil) {
        self.name = name
        self.description = description
        self.transport = transport
        self.usb = usb
    }

    /// Reads what libserialport holds about `port` (a borrowed `sp_port *`).
    init(port: OpaquePointer) {
        func string(_ pointer: UnsafeMutablePointer<CChar>?) -> String? {
            pointer.map { String(cString: $0) }
        }
        name = string(sp_get_port_name(port)) ?? ""
        description = string(sp_get_port_description(port)) ?? ""
        switch sp_get_port_transport(port) {
        case SP_TRANSPORT_USB:
            transport = .usb
            var vendor: Int32 = 0
            var product: Int32 = 0
            let hasIDs = sp_get_port_usb_vid_pid(port, &vendor, &product) == SP_OK
            usb = USBDetails(
                vendorID: hasIDs ? Int(vendor) : nil, productID: hasIDs ? Int(product) : nil,
                manufacturer: string(sp_get_port_usb_manufacturer(port)),
                product: string(sp_get_port_usb_product(port)),
                serialNumber: string(sp_get_port_usb_serial(port)))
        case SP_TRANSPORT_BLUETOOTH:
            transport = .bluetooth
        default:
            transport = .native
        }
    }
}
