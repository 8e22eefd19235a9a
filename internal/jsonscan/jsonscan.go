// Package jsonscan follows the structure of a JSON text byte by byte, without
// decoding it, so that streams can be cut into values cheaply: the operation
// log reader cuts a log into entries, and tolokatest cuts a request body into
// items. What it finds is checked later by a real decoder.
package jsonscan

import "bytes"

// Structure tracks whether the bytes seen so far end inside a string, and
// how deeply they are nested in objects and arrays. Its zero value is at the
// start of a text.
type Structure struct {
	// Depth is the nesting of objects and arrays after the last byte.
	Depth    int
	inString bool
	escaped  bool
}

// Step consumes c and reports whether it lies outside any string (the quote
// that opens a string counts as outside); bytes inside a string, its
// closing quote included, do not, so a brace or comma there is never taken
// for structure.
func (s *Structure) Step(c byte) bool {
	if s.inString {
		switch {
		case s.escaped:
			s.escaped = false
		case c == '\\':
			s.escaped = true
		case c == '"':
			s.inString = false
		}
		return false
	}
	switch c {
	case '"':
		s.inString = true
	case '{', '[':
		s.Depth++
	case '}', ']':
		s.Depth--
	}
	return true
}

// Next returns the index in b of the next byte outside any string, having
// consumed every byte before it, or -1 when b ends first (all of b is then
// consumed). It skips string contents in bulk, which is what makes cutting
// a long log cheap.
func (s *Structure) Next(b []byte) int {
	for i := 0; i < len(b); i++ {
		if s.inString {
			if s.escaped {
				s.escaped = false
				continue
			}
			j := bytes.IndexAny(b[i:], `"\`)
			if j < 0 {
				return -1
			}
			i += j
			if b[i] == '\\' {
				s.escaped = true
			} else {
				s.inString = false
			}
			continue
		}
		s.Step(b[i])
		return i
	}
	return -1
}
