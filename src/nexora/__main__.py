from nexora.cli.main import main

main()
