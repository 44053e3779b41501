"""统一风险预警处置中心: explainable risk scores and a learned pre-screening model, warning rules over
data and sensors, and the warning disposal loop (issue 9)."""
