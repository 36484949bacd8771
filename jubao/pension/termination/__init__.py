"""注销 (rulebook §5.11–5.12, §5.14 art. 8): deaths, termination and what is paid out, heirs,
funeral grants, and recovering what was paid too much."""
