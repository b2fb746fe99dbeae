variable "db_password" {
  type      = string
  sensitive = true
}

variable "vault_token" {
  type      = string
  sensitive = true
  default   = null
}

provider "vault" {
  address = "https://vault.example.internal:8200"
  token   = var.vault_token
}

resource "random_password" "db" {
  length           = 32
  special          = true
  override_special = "_%@"
}

resource "aws_db_instance" "app" {
  identifier          = "app"
  engine              = "postgres"
  username            = "app"
  password            = random_password.db.result
  skip_final_snapshot = true
}

resource "aws_secretsmanager_secret_version" "db" {
  secret_id     = aws_secretsmanager_secret.db.id
  secret_string = jsonencode({ username = "app", password = random_password.db.result })
}

resource "kubernetes_secret" "registry" {
  metadata {
    name = "registry-credentials"
  }
  data = {
    password = var.registry_password
    token    = data.vault_generic_secret.registry.data["token"]
  }
}
