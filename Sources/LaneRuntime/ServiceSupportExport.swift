// laned and the lane's tests use SystemdNotifier and the blocking check
// through LaneRuntime, as they did before both moved to ServiceSupport to be
// shared with clearanced.
@_exported import ServiceSupport
