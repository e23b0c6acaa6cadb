package configs

import (
	"errors"
	"strings"
	"testing"

	"github.com/cityhall/duban"
)

func TestLoad_MailSettingsStopStartUpNamingTheKey(t *testing.T) {
	tests := []struct {
		vars map[string]string
		want string // the key the one line names; "" accepts
	}{
		{map[string]string{"DUBAN_SMTP_URL": "smtp://u:p@mail.example.gov.cn:587", "DUBAN_MAIL_FROM": "督办 <duban@example.gov.cn>"}, ""},
		{map[string]string{"DUBAN_SMTP_URL": "smtps://u:p@mail.example.gov.cn", "DUBAN_MAIL_FROM": "duban@example.gov.cn",
			"DUBAN_LINK_SECRET": strings.Repeat("k", 32)}, ""},
		{map[string]string{"DUBAN_SMTP_URL": "http://u:p@mail.example.gov.cn", "DUBAN_MAIL_FROM": "duban@example.gov.cn"}, "DUBAN_SMTP_URL"},
		{map[string]string{"DUBAN_SMTP_URL": "smtp://u:p@mail.example.gov.cn:0", "DUBAN_MAIL_FROM": "duban@example.gov.cn"}, "DUBAN_SMTP_URL"},
		{map[string]string{"DUBAN_SMTP_URL": "smtp://u:p@mail.example.gov.cn"}, "DUBAN_MAIL_FROM"},
		{map[string]string{"DUBAN_SMTP_URL": "smtp://u:p@mail.example.gov.cn", "DUBAN_MAIL_FROM": "not an address"}, "DUBAN_MAIL_FROM"},
		{map[string]string{"DUBAN_MAIL_FROM": "duban@example.gov.cn"}, "DUBAN_MAIL_FROM"},
		{map[string]string{"DUBAN_LINK_SECRET": "short"}, "DUBAN_LINK_SECRET"},
	}
	for _, tt := range tests {
		_, err := Load("", env(tt.vars))
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%v: %v", tt.vars, err)
		case tt.want != "" && (err == nil || !errors.Is(err, duban.ErrInvalid) || !strings.HasPrefix(err.Error(), tt.want+":")):
			t.Errorf("%v: err = %v, want one naming %s", tt.vars, err, tt.want)
		case err != nil && (strings.Contains(err.Error(), ":p@") || strings.Contains(err.Error(), "\n")):
			t.Errorf("the error quotes the URL or spans lines: %v", err)
		}
	}
}
