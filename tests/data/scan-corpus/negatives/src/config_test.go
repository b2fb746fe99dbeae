package config

import "testing"

func TestParse(t *testing.T) {
	cfg, err := Parse("password: ${DB_PASSWORD}\ntoken_file: /run/secrets/token\nvalues:\n  hf-token: per-cluster\n")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Values["hf-token"] != "per-cluster" {
		t.Errorf("got %q", cfg.Values["hf-token"])
	}
}
