# The cluster's DNS zone (abridged); secrets come from the cluster, never from here.
terraform {
  required_providers {
    cloudflare = { source = "cloudflare/cloudflare", version = "~> 4.40" }
  }
}
