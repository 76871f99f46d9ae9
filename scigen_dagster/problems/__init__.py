"""From raw problems to benchmark items: sources, the visualizability filter, taxonomy
labels, quizzes and items, each with its rule-based and its model-backed path."""
