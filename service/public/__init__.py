"""What the program tells the public: its statistics, aggregates only."""
