from fileshare_cli.main import main

main()
