package certificate

import "github.com/forgetkit/forget"

// MemoLen is how many certificates c, a NewSigner's, remembers.
func MemoLen(c forget.Certifier) int {
	s := c.(*signer)
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.memo)
}
