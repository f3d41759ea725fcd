def test_two_salons_exist(alpha, beta, public_client, alpha_client):
    assert alpha.salon.subdomain == "alpha"
    assert public_client.get("/").status_code == 200
    r = alpha_client.get("/login/")
    assert r.status_code == 200
