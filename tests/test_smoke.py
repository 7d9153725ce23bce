from django.test import Client


def test_start_page_is_served_in_german_by_default(client: Client, db: None) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert 'lang="de"' in response.content.decode()
