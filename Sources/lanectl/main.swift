// lanectl: the technicians' and officers' command line (issue 4).
print("lanectl: not assembled yet")
