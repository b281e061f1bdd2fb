"""Built-in ops, one ``Function`` per op, grouped by family. Each states forward and backward math."""
