import os

SECRET_KEY = "@@generic-secret@@"
OPENAI_API_KEY = "@@openai-key@@"
ANTHROPIC_API_KEY = '@@anthropic-key@@'
HUGGINGFACE_TOKEN = "@@huggingface-token@@"
STRIPE_API_KEY = "@@stripe-key@@"
SENDGRID_API_KEY = "@@sendgrid-key@@"
GOOGLE_MAPS_KEY = "@@gcp-api-key@@"
DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql", "PASSWORD": "@@generic-password@@"}}
CELERY_BROKER_URL = "@@url-credentials@@"
client = Client(api_token="@@generic-token@@")
s3 = boto3.client(
    "s3",
    aws_access_key_id="@@aws-access-key-id@@",
    aws_secret_access_key="@@aws-secret-access-key@@",
)
AZURE_STORAGE = "@@azure-connection-string@@"
GOOGLE_CLIENT_SECRET = "@@google-oauth-client-secret@@"
