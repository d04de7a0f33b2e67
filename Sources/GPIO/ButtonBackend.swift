/// The lane's buttons, whatever they are wired to.
///
/// Two implementations: ``LibgpiodButtonBackend`` reads real lines through
/// libgpiod, ``VirtualButtonBackend`` takes presses from the control socket and
/// the simulator. Both report through the same ``ButtonInputEvent``s, so the
/// lane runtime cannot tell them apart. A libgpiod v2 backend would be a third
/// implementation of this protocol.
public protocol ButtonBackend: AnyObject, Sendable {
    /// Presses, releases, faults and recoveries, in order.
    ///
    /// One consumer only (it is an `AsyncStream`). It finishes after
    /// ``shutdown()``; a consumer that stops iterating shuts the backend down.
    var events: AsyncStream<ButtonInputEvent> { get }

    /// Switches the lamp of `role`'s button. Returns at once; does nothing for
    /// a role without a lamp. The backend remembers the last request and
    /// applies it again after the chip comes back.
    func setLamp(_ role: ButtonRole, on: Bool)

    /// Stops reading, releases every line and finishes ``events``. Safe to
    /// call more than once.
    func shutdown() async
}
