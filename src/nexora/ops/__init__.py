"""Operations tooling: the embedded PostgreSQL, database provisioning and the migrations runner.

Used by the CLI (`nexora db`, `nexora up`), the assembly and the tests; the kernel and the domains
never import it.
"""
