// The noisy-line proxy and pty helpers land here (issue 3).
