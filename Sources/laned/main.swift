// laned: the lane daemon (issue 4); assembled in LaneRuntime.
print("laned: not assembled yet")
