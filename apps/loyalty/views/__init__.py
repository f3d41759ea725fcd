"""Staff pages of loyalty under /members/, one module per topic. Thin: parse a form, call one service,
render. The client's member account (/members/clients/<id>/…) has a tab per topic."""
