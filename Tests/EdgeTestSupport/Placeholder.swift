// Tests arrive in the next commit.
