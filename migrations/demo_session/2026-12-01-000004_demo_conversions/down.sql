DROP TABLE demo_conversions;
