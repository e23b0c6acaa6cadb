package redact

import (
	"errors"
	"io"
	"testing"
)

func TestError_MasksSecretAndKeepsChain(t *testing.T) {
	const tok = "123456:ABC-secret"
	base := errors.New(`Post "https://api.telegram.org/bot123456:ABC-secret/sendMessage": ` + io.EOF.Error())
	wrapped := errors.Join(base, io.EOF)
	got := Error(wrapped, tok)
	if Leaks(got, tok) {
		t.Fatalf("token still in %q", got)
	}
	if !errors.Is(got, io.EOF) {
		t.Error("errors.Is lost the chain")
	}
	if Error(nil, tok) != nil {
		t.Error("nil error became non-nil")
	}
}
