import base64, zlib, time
import pytest
from tests.accounts.identity_providers import saml_idp, saml_provider, start_saml, request_query  # noqa
pytestmark = pytest.mark.django_db
def test_x(client, saml_provider):
    t=time.time()
    q = request_query(start_saml(client, saml_provider, "high"))
    print("start took", time.time()-t)
    print(zlib.decompress(base64.b64decode(q["SAMLRequest"]), -15).decode())
