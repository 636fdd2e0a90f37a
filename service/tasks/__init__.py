"""Agency tasks: the work log of every agency on the program, recurring work, and referrals."""
