package search

import "io"

func ioEOF() error { return io.EOF }
