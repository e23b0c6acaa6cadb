package password

import (
	"errors"
	"strings"
	"testing"
)

func TestHash_VerifiesOnlyItsPassword(t *testing.T) {
	h, err := Hash("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$") {
		t.Errorf("hash %q is not a PHC argon2id string", h)
	}
	if err := Verify(h, "correct horse battery"); err != nil {
		t.Errorf("Verify(right) = %v", err)
	}
	if err := Verify(h, "correct horse batterz"); !errors.Is(err, ErrMismatch) {
		t.Errorf("Verify(wrong) = %v, want ErrMismatch", err)
	}
	again, _ := Hash("correct horse battery")
	if again == h {
		t.Error("two hashes of one password are equal: the salt is not random")
	}
}

func TestVerify_RefusesWhatIsNotAHash(t *testing.T) {
	for _, phc := range []string{"", "plain", "$2a$10$bcrypt", "$argon2id$v=19$m=0,t=1,p=1$c2FsdA$aGFzaA", "$argon2i$v=19$m=1024,t=1,p=1$c2FsdA$aGFzaA"} {
		if err := Verify(phc, "whatever"); err == nil || errors.Is(err, ErrMismatch) {
			t.Errorf("Verify(%q) = %v, want a malformed-hash error", phc, err)
		}
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		pw string
		ok bool
	}{
		{"short", false},
		{"elevenchars", false},
		{"twelve chars", true},
		{"十二个汉字的密码也可以用的", true},
		{strings.Repeat("x", MaxLength+1), false},
		{"\xff\xfe invalid utf8!!", false},
	}
	for _, tt := range tests {
		if err := Check(tt.pw); (err == nil) != tt.ok {
			t.Errorf("Check(%q) = %v, want ok=%v", tt.pw, err, tt.ok)
		}
	}
}
