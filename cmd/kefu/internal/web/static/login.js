// Kefu supervisor login: the token is sent once and exchanged for a
// session cookie, then the wallboard opens.
"use strict";

kefu.byId("sup-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const input = ev.target.token;
  const res = await kefu.call("POST", "/api/supervisor/login", { token: input.value.trim() });
  input.value = "";
  if (res.status !== 200) {
    kefu.byId("sup-error").textContent = (res.body && res.body.error) || `login failed (${res.status})`;
    return;
  }
  location.href = "/wallboard";
});
