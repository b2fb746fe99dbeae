package config

import "os"

// Config reads credentials from the environment only.
type Config struct {
	Password string `json:"password" env:"DB_PASSWORD"`
	APIToken string `json:"api_token" env:"API_TOKEN"`
}

func Load() Config {
	password := os.Getenv("DB_PASSWORD")
	token := os.Getenv("API_TOKEN")
	return Config{Password: password, APIToken: token}
}

const passwordHeader = "X-Password-Policy"
const pemHeader = "-----BEGIN RSA PRIVATE KEY-----"
