DROP TABLE demo_milestones;
