from firmly.doors.cli import main

main()
