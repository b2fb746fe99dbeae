vault {
  address = "https://vault.example.internal:8200"
}
auto_auth {
  method "kubernetes" {
    mount_path = "auth/kubernetes"
    config = {
      role       = "app"
      token_path = "/var/run/secrets/kubernetes.io/serviceaccount/token"
    }
  }
  sink "file" {
    config = {
      path = "/home/vault/.vault-token"
    }
  }
}
template {
  destination = "/etc/app/db.env"
  contents    = <<EOT
{{ with secret "database/creds/app" }}DB_PASSWORD={{ .Data.password }}{{ end }}
EOT
}
